/**
 * Which VirtualServices shape traffic from this proxy to a service: visible (exportTo),
 * bound to the mesh (no `gateways`, or `mesh` among them), with a host matching the
 * service. The most specific matching host wins; every VirtualService with that same host
 * is merged, oldest first (creationTimestamp), so their routes are tried in that order.
 */
import type { MeshConfig, WorldService } from '../world/types.ts';
import type { VirtualServiceSpec } from './istio-types.ts';
import { exportedTo, hostMatches, hostSpecificity, resolveHost } from './hosts.ts';
import type { Ctx } from './context.ts';

export type VS = MeshConfig<VirtualServiceSpec>;

function boundToMesh(gateways: string[] | undefined): boolean {
  return gateways === undefined || gateways.length === 0 || gateways.includes('mesh');
}

export function virtualServicesFor(ctx: Ctx, svc: WorldService): VS[] {
  let best: VS[] = [];
  let bestSpec = -1;
  let bestHost = '';
  for (const vs of ctx.world.virtualServices) {
    if (!boundToMesh(vs.spec.gateways) || !exportedTo(vs.spec.exportTo, vs.meta.namespace, ctx.proxy.namespace)) continue;
    let matched: string | undefined;
    for (const h of vs.spec.hosts ?? []) {
      const host = resolveHost(h, vs.meta.namespace);
      if (hostMatches(host, svc.hostname) && (matched === undefined || hostSpecificity(host) > hostSpecificity(matched))) matched = host;
    }
    if (matched === undefined) continue;
    const spec = hostSpecificity(matched);
    if (spec > bestSpec) {
      best = [vs];
      bestSpec = spec;
      bestHost = matched;
    } else if (matched === bestHost) best.push(vs);
  }
  return best;
}

/** Whether a route/match's `gateways` lets it apply to sidecars. */
export function matchBoundToMesh(gateways: string[] | undefined): boolean {
  return boundToMesh(gateways);
}
