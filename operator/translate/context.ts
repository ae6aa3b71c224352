/** Per-translation state: the proxy's visible services and the clusters built so far. */
import type { Cluster, EndpointSet, ProxyIdentity } from '../../common/snapshot.ts';
import type { World, WorldService } from '../world/types.ts';
import { exportedTo } from './hosts.ts';
import { lookupDestinationRule, type ResolvedDestinationRule } from './destination-rules.ts';

export interface Ctx {
  world: World;
  proxy: ProxyIdentity;
  /** Services this proxy may call (exportTo), sorted by namespace, name. */
  services: WorldService[];
  byHost: Map<string, WorldService>;
  clusters: Map<string, Cluster>;
  endpointSets: Map<string, EndpointSet>;
  drs: Map<string, ResolvedDestinationRule | undefined>;
}

export function newContext(world: World, proxy: ProxyIdentity): Ctx {
  const services = world.services.filter((s) => exportedTo(s.exportTo, s.meta.namespace, proxy.namespace));
  return { world, proxy, services, byHost: new Map(services.map((s) => [s.hostname, s])), clusters: new Map(), endpointSets: new Map(), drs: new Map() };
}

/** The DestinationRule that applies to calls from this proxy to `svc` (memoized). */
export function destinationRuleFor(ctx: Ctx, svc: WorldService): ResolvedDestinationRule | undefined {
  if (!ctx.drs.has(svc.hostname)) ctx.drs.set(svc.hostname, lookupDestinationRule(ctx.world, ctx.proxy, svc));
  return ctx.drs.get(svc.hostname);
}
