/** Clusters compiled once per snapshot: endpoint states, balancer, hash key, protocol. */
import type { Cluster, EndpointSet, LoadBalancer, Locality, Endpoint } from '../../common/snapshot.ts';
import { createBalancer, type EndpointState } from '../balancer/index.ts';
import { hash32 } from '../balancer/hash.ts';
import type { ClusterRuntime, PassthroughTargets, RequestContext } from '../chain/types.ts';
import { attachResilience, guardOf } from '../resilience/cluster-guard.ts';

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The consistent-hash key of a request for a cluster's `hashOn`, compiled once. */
export function compileHashKey(lb: LoadBalancer): ((ctx: RequestContext) => string | undefined) | undefined {
  if (lb.policy !== 'RING_HASH' && lb.policy !== 'MAGLEV') return undefined;
  const h = lb.hashOn;
  if (h === undefined) return undefined;
  switch (h.kind) {
    case 'header': {
      const name = h.name.toLowerCase();
      return (ctx) => ctx.attrs.header(name);
    }
    case 'cookie': {
      if (h.ttlMs === undefined) return (ctx) => cookieValue(ctx.attrs.header('cookie'), h.name);
      // Envoy: with a ttl, a missing cookie is generated (from the client address) and set on
      // the response, so the client's next requests hash to the same endpoint.
      const attrs = `; Max-Age=${Math.floor(h.ttlMs / 1000)}${h.path === undefined ? '' : `; Path=${h.path}`}; HttpOnly`;
      return (ctx) => {
        const v = cookieValue(ctx.attrs.header('cookie'), h.name);
        if (v !== undefined) return v;
        const gen = hash32(`${ctx.remoteAddress}|${ctx.startTime}`).toString(16).padStart(8, '0');
        ctx.setCookie = `${h.name}=${gen}${attrs}`;
        return gen;
      };
    }
    case 'sourceIp':
      return (ctx) => ctx.remoteAddress;
    case 'queryParameter':
      return (ctx) => ctx.attrs.queryParam(h.name);
  }
}

/** Original destinations seen by a PASSTHROUGH cluster; the oldest is forgotten past 1,024. */
function passthroughTargets(): PassthroughTargets {
  const seen = new Map<string, EndpointState>();
  return {
    get(address, port) {
      const key = `${address}:${port}`;
      let st = seen.get(key);
      if (st === undefined) {
        if (seen.size >= 1024) seen.delete(seen.keys().next().value!);
        st = { endpoint: { address, port, labels: {}, weight: 1, healthy: true }, key, active: 0 };
        seen.set(key, st);
      }
      return st;
    },
  };
}

function states(endpoints: Endpoint[]): EndpointState[] {
  return endpoints.map((endpoint) => ({ endpoint, key: `${endpoint.address}:${endpoint.port}`, active: 0 }));
}

function build(cluster: Cluster, endpoints: Endpoint[], h2: boolean, locality: Locality | undefined, localAddress: string | undefined, previous: ClusterRuntime | undefined, sibling?: ClusterRuntime): ClusterRuntime {
  const eps = states(endpoints);
  const rt: ClusterRuntime = { cluster, endpoints: eps, balancer: createBalancer(cluster.loadBalancer, eps, locality), h2, hashKey: compileHashKey(cluster.loadBalancer), localAddress };
  if (cluster.loadBalancer.policy === 'PASSTHROUGH') rt.passthrough = passthroughTargets();
  // Resiliency seam: circuit breaker + outlier detection state; ejections rebuild the balancer over the remaining hosts.
  attachResilience(rt, (subset) => createBalancer(cluster.loadBalancer, subset, locality), previous, sibling === undefined ? undefined : guardOf(sibling)?.stats);
  return rt;
}

/**
 * Builds a cluster runtime. `auto` clusters speak the downstream's protocol: they carry an
 * HTTP/2 twin (own endpoint states, own pools, the same counters) that the terminal uses for
 * HTTP/2 requests. `previous` is this cluster's runtime in the snapshot being replaced.
 */
export function compileCluster(cluster: Cluster, set: EndpointSet | undefined, locality: Locality | undefined, localAddress?: string, previous?: ClusterRuntime): ClusterRuntime {
  const endpoints = set?.endpoints ?? [];
  const h2 = cluster.protocol === 'http2' || cluster.protocol === 'grpc';
  const rt = build(cluster, endpoints, h2, locality, localAddress, previous);
  if (cluster.protocol === 'auto') rt.h2Twin = build(cluster, endpoints, true, locality, localAddress, previous?.h2Twin, rt);
  return rt;
}

/** A cluster for the inbound app port: one endpoint, reached from `source` (127.0.0.6). */
export function appCluster(name: string, host: string, port: number, protocol: Cluster['protocol'], provenance: Cluster['provenance'], source: string | undefined, previous?: ClusterRuntime): ClusterRuntime {
  const cluster: Cluster = {
    name,
    service: name,
    port,
    protocol,
    loadBalancer: { policy: 'ROUND_ROBIN' },
    connectionPool: { maxConnections: 0, connectTimeoutMs: 10_000, http1MaxPendingRequests: 0, http2MaxRequests: 0, maxRequestsPerConnection: 0, maxRetries: 0, idleTimeoutMs: 3_600_000, maxConcurrentStreams: 0 },
    tls: { mode: 'DISABLE' },
    endpointSet: name,
    provenance,
  };
  return compileCluster(cluster, { name, endpoints: [{ address: host, port, labels: {}, weight: 1, healthy: true }], provenance }, undefined, source, previous);
}
