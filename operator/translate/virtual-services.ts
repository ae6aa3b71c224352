/**
 * Which VirtualServices shape traffic from this proxy to a service: visible (exportTo),
 * bound to the mesh (no `gateways`, or `mesh` among them), with a host matching the
 * service. The most specific matching host wins; every VirtualService with that same host
 * is merged, oldest first (creationTimestamp), so their routes are tried in that order.
 */
import type { MeshConfig, WorldService } from '../world/types.ts';
import type { VirtualServiceSpec } from './istio-types.ts';
import { exportedTo, hostMatches, hostSpecificity } from './hosts.ts';
import { indexesOf } from './indexes.ts';
import type { Ctx } from './context.ts';

export type VS = MeshConfig<VirtualServiceSpec>;

function boundToMesh(gateways: string[] | undefined): boolean {
  return gateways === undefined || gateways.length === 0 || gateways.includes('mesh');
}

export function virtualServicesFor(ctx: Ctx, svc: WorldService): VS[] {
  const usable = (vs: VS): boolean => boundToMesh(vs.spec.gateways) && exportedTo(vs.spec.exportTo, vs.meta.namespace, ctx.proxy.namespace);
  const ix = indexesOf(ctx.world).vs;
  const exact = (ix.exact.get(svc.hostname) ?? []).filter(usable);
  if (exact.length > 0) return exact;
  let best: VS[] = [];
  let bestSpec = -1;
  let bestHost = '';
  // ix.wildcard keeps World order (oldest first), so `best` stays oldest first.
  for (const { host, item } of ix.wildcard) {
    if (!hostMatches(host, svc.hostname) || !usable(item)) continue;
    const spec = hostSpecificity(host);
    if (spec > bestSpec) {
      best = [item];
      bestSpec = spec;
      bestHost = host;
    } else if (host === bestHost && !best.includes(item)) best.push(item);
  }
  return best;
}

/** Whether a route/match's `gateways` lets it apply to sidecars. */
export function matchBoundToMesh(gateways: string[] | undefined): boolean {
  return boundToMesh(gateways);
}
