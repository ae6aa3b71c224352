/**
 * translate(world, proxy) → ProxySnapshot. Pure: no clock, environment, client or logger;
 * the same World and identity always give the same snapshot, whose version is the hash of
 * its content. Every item carries the provenance of the object that produced it.
 */
import type { ProxyIdentity, ProxySnapshot } from '../../common/snapshot.ts';
import type { World } from '../world/types.ts';
import { contentHash } from '../world/hash.ts';
import { newContext } from './context.ts';
import { buildOutbound } from './outbound.ts';
import { buildInbound } from './inbound.ts';
import { findWorkload } from './identity.ts';
import { authorization, peerAuthentication } from './security.ts';

export { resolveProxy, parseProxyId, type ProxyClaim } from './identity.ts';

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function translate(world: World, proxy: ProxyIdentity): ProxySnapshot {
  const ctx = newContext(world, proxy);
  const self = findWorkload(world, proxy.id.slice(0, proxy.id.lastIndexOf('.')), proxy.namespace);
  const outbound = buildOutbound(ctx);
  const inbound = buildInbound(ctx, self);
  const body: Omit<ProxySnapshot, 'version'> = {
    proxy,
    listeners: [...outbound.listeners, ...inbound],
    routes: outbound.routes,
    clusters: [...ctx.clusters.values()].sort(byName),
    endpoints: [...ctx.endpointSets.values()].sort(byName),
    security: { peerAuthentication: peerAuthentication(world, proxy), authorization: authorization(world, proxy) },
    telemetry: { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } },
  };
  return { version: contentHash(body), ...body };
}
