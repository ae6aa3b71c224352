/** Raw TCP (and TLS passthrough) forwarding: route selection by port/SNI, then a two-way pipe. */
import { connect, type Socket } from 'node:net';
import type { Random } from '../../common/clock.ts';
import type { ClusterRuntime } from '../chain/types.ts';
import type { Endpoint } from '../../common/snapshot.ts';
import type { ListenerRuntime } from '../runtime/compile-snapshot.ts';
import { hash32 } from '../balancer/hash.ts';
import type { ProxySecurity } from '../security/runtime.ts';
import { proxyTelemetry } from '../telemetry/index.ts';
import { guardOf } from '../resilience/cluster-guard.ts';

function sniMatches(hosts: string[], sni: string): boolean {
  for (const h of hosts) {
    const l = h.toLowerCase();
    if (l === '*' || l === sni || (l.startsWith('*.') && sni.endsWith(l.slice(1)))) return true;
  }
  return false;
}

/** The cluster of the first TCP/TLS route matching the port and (for TLS) the SNI. */
export function tcpCluster(l: ListenerRuntime, port: number, sni: string | null, random: Random): ClusterRuntime | undefined {
  for (const r of l.tcpRoutes) {
    if (r.route.port !== undefined && r.route.port !== port) continue;
    if (r.route.sniHosts !== undefined && r.route.sniHosts.length > 0 && (sni === null || !sniMatches(r.route.sniHosts, sni))) continue;
    return r.pick.pick(random).cluster;
  }
  return undefined;
}

/** Pipes `socket` to host:port; either side closing or failing closes the other. */
export function pipeTcp(socket: Socket, host: string, port: number, localAddress?: string, dial?: () => Socket): void {
  const up = dial !== undefined ? dial() : connect({ host, port, ...(localAddress === undefined ? {} : { localAddress }), allowHalfOpen: true });
  up.setNoDelay(true);
  const kill = (): void => {
    socket.destroy();
    up.destroy();
  };
  up.once('error', kill);
  socket.once('error', kill);
  socket.once('close', () => up.destroy());
  up.once('close', () => socket.destroy());
  socket.pipe(up);
  up.pipe(socket);
  socket.resume();
}

// The endpoint list the TCP metrics binding wants, built once per cluster runtime (not per connection).
const endpointLists = new WeakMap<ClusterRuntime, Endpoint[]>();
function endpointsOf(cl: ClusterRuntime): Endpoint[] {
  let l = endpointLists.get(cl);
  if (l === undefined) endpointLists.set(cl, (l = cl.endpoints.map((x) => x.endpoint)));
  return l;
}

/** Forwards a connection to an endpoint of the cluster (consistent hash on the source IP when configured). */
export function pipeToCluster(socket: Socket, cl: ClusterRuntime, random: Random, security?: ProxySecurity): void {
  // DestinationRule tcp.maxConnections: over the limit the connection is closed at once
  // (Envoy's upstream_cx_overflow), never queued.
  const guard = guardOf(cl);
  const breaker = guard?.breaker;
  if (breaker !== undefined && breaker.maxConnections !== Infinity) {
    if (breaker.active >= breaker.maxConnections) {
      guard!.stats.upstream_cx_overflow++;
      socket.destroy();
      return;
    }
    breaker.active++;
    socket.once('close', () => breaker.release());
  }
  const ep = cl.balancer.pick(random, cl.hashKey === undefined ? undefined : hash32(socket.remoteAddress ?? ''));
  if (ep === undefined) {
    socket.destroy();
    return;
  }
  const e = ep.endpoint;
  const t = security?.transportFor(cl.cluster, e);
  proxyTelemetry.tcpConnection(socket, cl.cluster, endpointsOf(cl), e);
  if (t?.kind === 'mtls') {
    // Mesh mTLS to the endpoint's sidecar, checking its exact SPIFFE ID.
    const client = security!.client;
    const la = cl.localAddress;
    pipeTcp(socket, e.address, e.port, la, () => client.connect({ host: e.address, port: e.port, identity: t.identity, ...(la === undefined ? {} : { localAddress: la }) }));
    return;
  }
  pipeTcp(socket, e.address, e.port, cl.localAddress);
}
