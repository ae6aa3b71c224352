/**
 * Per-World lookup tables for translation (host → VirtualServices, namespace/host →
 * DestinationRules), built once per World and shared by every proxy's translation.
 * Lists keep the World's oldest-first order.
 */
import type { MeshConfig, World, WorldService, WorldWorkload } from '../world/types.ts';
import type { DestinationRuleSpec, VirtualServiceSpec } from './istio-types.ts';
import { resolveHost } from './hosts.ts';

export interface HostIndex<T> {
  exact: Map<string, T[]>;
  /** Wildcard hosts (`*`, `*.suffix`) with their objects. */
  wildcard: { host: string; item: T }[];
}

export interface WorldIndexes {
  vs: HostIndex<MeshConfig<VirtualServiceSpec>>;
  /** `namespace/name` → workloads (a Pod first when a WorkloadEntry has the same name). */
  workloads: Map<string, WorldWorkload>;
  /** namespace → services with a selector there (inbound candidates). */
  selecting: Map<string, WorldService[]>;
  /** namespace → index of that namespace's DestinationRules. */
  dr: Map<string, HostIndex<MeshConfig<DestinationRuleSpec>>>;
}

function add<T>(idx: HostIndex<T>, host: string, item: T): void {
  if (host.startsWith('*')) {
    idx.wildcard.push({ host, item });
    return;
  }
  const l = idx.exact.get(host);
  if (l === undefined) idx.exact.set(host, [item]);
  else if (!l.includes(item)) l.push(item);
}

const memo = new WeakMap<World, WorldIndexes>();

export function indexesOf(world: World): WorldIndexes {
  let ix = memo.get(world);
  if (ix !== undefined) return ix;
  ix = { vs: { exact: new Map(), wildcard: [] }, dr: new Map(), workloads: new Map(), selecting: new Map() };
  for (const w of world.workloads) {
    const k = `${w.namespace}/${w.name}`;
    const have = ix.workloads.get(k);
    if (have === undefined || (have.kind !== 'Pod' && w.kind === 'Pod')) ix.workloads.set(k, w);
  }
  for (const svc of world.services) {
    if (svc.selector === undefined) continue;
    const l = ix.selecting.get(svc.meta.namespace);
    if (l === undefined) ix.selecting.set(svc.meta.namespace, [svc]);
    else l.push(svc);
  }
  for (const vs of world.virtualServices) for (const h of vs.spec.hosts ?? []) add(ix.vs, resolveHost(h, vs.meta.namespace), vs);
  for (const dr of world.destinationRules) {
    if (dr.spec.host === undefined) continue;
    let n = ix.dr.get(dr.meta.namespace);
    if (n === undefined) {
      n = { exact: new Map(), wildcard: [] };
      ix.dr.set(dr.meta.namespace, n);
    }
    add(n, resolveHost(dr.spec.host, dr.meta.namespace), dr);
  }
  memo.set(world, ix);
  return ix;
}
