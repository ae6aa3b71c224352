/**
 * Locality-prioritised endpoint sets: same zone+subzone, then same zone, then same region,
 * then the rest. The balancer uses the best non-empty priority (Envoy's default failover
 * when outlier detection is off). Without a proxy locality every endpoint is priority 0.
 */
import type { Locality } from '../../common/snapshot.ts';
import type { EndpointState } from './types.ts';

export function priorityOf(proxy: Locality | undefined, ep: Locality | undefined): number {
  if (proxy === undefined || ep === undefined) return 0;
  if (ep.region !== proxy.region) return 3;
  if (ep.zone !== proxy.zone) return 2;
  if (ep.subzone !== proxy.subzone) return 1;
  return 0;
}

/** The healthy endpoints of the best priority present. */
export function bestPriority(eps: readonly EndpointState[], proxy: Locality | undefined): EndpointState[] {
  const healthy = eps.filter((e) => e.endpoint.healthy);
  if (proxy === undefined) return healthy;
  let best = 4;
  for (const e of healthy) best = Math.min(best, priorityOf(proxy, e.endpoint.locality));
  return healthy.filter((e) => priorityOf(proxy, e.endpoint.locality) === best);
}
