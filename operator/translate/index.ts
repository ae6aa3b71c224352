/**
 * translate(world, proxy) → ProxySnapshot. Pure: no clock, environment, client or logger;
 * the same World and identity always give the same snapshot, whose version is the hash of
 * its content. Every item carries the provenance of the object that produced it.
 *
 * The outbound part (listeners, route tables, clusters, endpoints: nearly all of a
 * snapshot) depends on the proxy only through its namespace and the labels some
 * sourceLabels/workloadSelector look at, so it is computed once per `outboundKey` and
 * shared (translateOutbound + assemble); the version hashes the parts' hashes.
 */
import { effectiveTelemetry } from './telemetry-settings.ts';
import type { Listener, ProxyIdentity, ProxySnapshot } from '../../common/snapshot.ts';
import type { World } from '../world/types.ts';
import { createHash } from 'node:crypto';
import { newContext } from './context.ts';
import { buildOutbound } from './outbound.ts';
import { cachedFragment, clusterSignature } from './fragments.ts';
import { buildInbound } from './inbound.ts';
import { findWorkload } from './identity.ts';
import { authorization, peerAuthentication } from './security.ts';
import { requestAuthentication } from './request-authn.ts';

export { resolveProxy, parseProxyId, type ProxyClaim } from './identity.ts';

/** Per World: clusters/endpoints JSON by content key (shared by namespaces that see the same). */
const clusterTails = new WeakMap<World, Map<string, string>>();

export interface OutboundPart {
  listeners: Listener[];
  routes: ProxySnapshot['routes'];
  clusters: ProxySnapshot['clusters'];
  endpoints: ProxySnapshot['endpoints'];
  /**
   * The snapshot's JSON from the outbound listeners on, in two shared pieces:
   * `<outbound listeners>],"routes":[…],` (per outbound key) and
   * `"clusters":[…],"endpoints":[…]}` (often the same for every namespace). Bodies are a
   * small per-proxy head plus these pieces.
   */
  routesTail: string;
  clustersTail: string;
  /** Identifies routesTail's content (see translateOutbound). */
  hash: string;
  /** Identifies clustersTail's content. */
  clustersKey: string;
}

const relevantKeys = new WeakMap<World, string[]>();

/** Label keys any outbound decision looks at (route sourceLabels, DestinationRule workloadSelector). */
function labelKeysUsed(world: World): string[] {
  let keys = relevantKeys.get(world);
  if (keys === undefined) {
    const set = new Set<string>();
    for (const vs of world.virtualServices) {
      for (const r of [...(vs.spec.http ?? []), ...(vs.spec.tcp ?? []), ...(vs.spec.tls ?? [])]) {
        for (const m of r.match ?? []) for (const k of Object.keys(m.sourceLabels ?? {})) set.add(k);
      }
    }
    for (const dr of world.destinationRules) for (const k of Object.keys(dr.spec.workloadSelector?.matchLabels ?? {})) set.add(k);
    keys = [...set].sort();
    relevantKeys.set(world, keys);
  }
  return keys;
}

/** Proxies with equal keys get the same outbound part. */
export function outboundKey(world: World, proxy: ProxyIdentity): string {
  return JSON.stringify([proxy.namespace, labelKeysUsed(world).map((k) => proxy.labels[k] ?? null)]);
}

export function translateOutbound(world: World, proxy: ProxyIdentity): OutboundPart {
  const ctx = newContext(world, proxy);
  const key = outboundKey(world, proxy);
  const hash = createHash('sha1');
  const out = buildOutbound(ctx, (svc) => {
    const { frag, sig } = cachedFragment(ctx, svc, key);
    hash.update(sig).update('\n');
    return frag;
  });
  const routesTail = `${out.json.listeners.slice(1, -1)}],"routes":${out.json.routes},`;
  // The pieces are functions of the fragments (named by their content signatures, in order)
  // and the listeners, so hashing those identifies them without hashing megabytes.
  hash.update(out.json.listeners);
  const ch = createHash('sha1');
  for (const svc of ctx.services) ch.update(clusterSignature(ctx, svc)).update('\n');
  const clustersKey = ch.digest('hex').slice(0, 16);
  let memo = clusterTails.get(world);
  if (memo === undefined) {
    memo = new Map();
    clusterTails.set(world, memo);
  }
  let clustersTail = memo.get(clustersKey);
  if (clustersTail === undefined) {
    clustersTail = out.clustersTail();
    memo.set(clustersKey, clustersTail);
  }
  return { listeners: out.listeners, routes: out.routes, clusters: out.clusters, endpoints: out.endpoints, routesTail, clustersTail, hash: hash.digest('hex').slice(0, 16), clustersKey };
}

function securityOf(world: World, proxy: ProxyIdentity): ProxySnapshot['security'] {
  const jwt = requestAuthentication(world, proxy);
  const sec: ProxySnapshot['security'] = { peerAuthentication: peerAuthentication(world, proxy), authorization: authorization(world, proxy) };
  // Absent (not empty) without RequestAuthentication: snapshots of workloads without JWT are unchanged.
  if (jwt.length > 0) sec.requestAuthentication = jwt;
  return sec;
}

/** The per-proxy rest of a snapshot: identity, inbound listeners, security, telemetry. */
export function proxyPart(world: World, proxy: ProxyIdentity): { inbound: Listener[]; security: ProxySnapshot['security']; telemetry: ProxySnapshot['telemetry'] } {
  const self = findWorkload(world, proxy.id.slice(0, proxy.id.lastIndexOf('.')), proxy.namespace);
  return {
    inbound: buildInbound(world, proxy, self),
    security: securityOf(world, proxy),
    telemetry: effectiveTelemetry(world.meshTelemetry ?? {}, self?.telemetryAnnotations),
  };
}

export function assemble(world: World, proxy: ProxyIdentity, out: OutboundPart): ProxySnapshot {
  const rest = proxyPart(world, proxy);
  // Built in a fixed order by this code, so plain JSON is a stable input to the hash.
  const version = createHash('sha1').update(JSON.stringify([out.hash, out.clustersKey, proxy, rest.inbound, rest.security, rest.telemetry])).digest('hex').slice(0, 16);
  // Key order matters: the push server splices the JSON in this order (small head, shared tail).
  return { version, proxy, security: rest.security, telemetry: rest.telemetry, listeners: [...rest.inbound, ...out.listeners], routes: out.routes, clusters: out.clusters, endpoints: out.endpoints };
}

export function translate(world: World, proxy: ProxyIdentity): ProxySnapshot {
  return assemble(world, proxy, translateOutbound(world, proxy));
}
