/** Load-balancer contracts. Balancers are built once per snapshot per cluster. */
import type { Random } from '../../common/clock.ts';
import type { Endpoint } from '../../common/snapshot.ts';

/** Runtime state of one endpoint, shared by the balancer and the forwarder. */
export interface EndpointState {
  endpoint: Endpoint;
  /** `address:port`, the pool key. */
  key: string;
  /** Requests in flight (LEAST_REQUEST reads it; the forwarder maintains it). */
  active: number;
  /** Pool key, cached by the pool registry. */
  poolKey?: string;
}

export interface Balancer {
  /** Picks an endpoint; `hash` is the consistent-hash key's hash when the policy uses one. */
  pick(random: Random, hash?: number): EndpointState | undefined;
}
