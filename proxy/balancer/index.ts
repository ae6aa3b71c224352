/** Builds a cluster's balancer from its LoadBalancer settings. */
import type { LoadBalancer, Locality } from '../../common/snapshot.ts';
import { maglev, ringHash } from './consistent.ts';
import { bestPriority } from './locality.ts';
import { leastRequest, random, roundRobin } from './simple.ts';
import type { Balancer, EndpointState } from './types.ts';

export type { Balancer, EndpointState } from './types.ts';

export function createBalancer(lb: LoadBalancer, endpoints: readonly EndpointState[], locality?: Locality): Balancer {
  const eps = bestPriority(endpoints, locality);
  switch (lb.policy) {
    case 'LEAST_REQUEST':
      return leastRequest(eps);
    case 'RANDOM':
      return random(eps);
    case 'RING_HASH':
      return ringHash(eps, lb.tableSize);
    case 'MAGLEV':
      return maglev(eps, lb.tableSize);
    case 'ROUND_ROBIN':
    case 'PASSTHROUGH':
      return roundRobin(eps);
  }
}
