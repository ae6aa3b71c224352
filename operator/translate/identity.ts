/**
 * Who a proxy is: what it claims (pod name and namespace, proven by authentication) joined
 * with the Pod or WorkloadEntry of that name in the World, which wins over claimed details.
 */
import type { ProxyIdentity } from '../../common/snapshot.ts';
import type { World, WorldWorkload } from '../world/types.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../common/spiffe.ts';
import { indexesOf } from './indexes.ts';

export interface ProxyClaim {
  /** Pod (or WorkloadEntry) name. */
  name: string;
  namespace: string;
  serviceAccount?: string;
  labels?: Record<string, string>;
  ip?: string;
  workload?: string;
}

/** `<pod>.<namespace>`: namespaces have no dots, so the last dot splits. */
export function parseProxyId(id: string): { name: string; namespace: string } | undefined {
  const i = id.lastIndexOf('.');
  if (i <= 0 || i === id.length - 1) return undefined;
  return { name: id.slice(0, i), namespace: id.slice(i + 1) };
}

export function findWorkload(world: World, name: string, namespace: string): WorldWorkload | undefined {
  return indexesOf(world).workloads.get(`${namespace}/${name}`);
}

export function resolveProxy(world: World, claim: ProxyClaim): ProxyIdentity {
  const w = findWorkload(world, claim.name, claim.namespace);
  const sa = w?.serviceAccount ?? claim.serviceAccount ?? 'default';
  return {
    id: `${claim.name}.${claim.namespace}`,
    namespace: claim.namespace,
    workload: w?.workloadName ?? claim.workload ?? claim.labels?.app ?? claim.name,
    serviceAccount: sa,
    labels: w?.labels ?? claim.labels ?? {},
    ip: w !== undefined && w.ip !== '' ? w.ip : (claim.ip ?? ''),
    spiffeId: `spiffe://${world.trustDomain ?? DEFAULT_TRUST_DOMAIN}/ns/${claim.namespace}/sa/${sa}`,
  };
}
