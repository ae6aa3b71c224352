/**
 * DestinationRule lookup per Istio: the proxy's namespace first, then the service's,
 * then the root namespace; in each, an exact host beats a wildcard, and several rules
 * for the same host merge oldest first (the oldest's traffic policy, subsets appended).
 */
import type { ProxyIdentity, Provenance } from '../../common/snapshot.ts';
import type { MeshConfig, World, WorldService } from '../world/types.ts';
import type { DestinationRuleSpec } from './istio-types.ts';
import { exportedTo, hostMatches, hostSpecificity } from './hosts.ts';
import { indexesOf } from './indexes.ts';
import { labelsMatch } from '../world/workloads.ts';

export interface ResolvedDestinationRule {
  spec: DestinationRuleSpec;
  provenance: Provenance;
  /** `ns/name` of every rule merged, oldest first, and their specs. */
  ids: string[];
  sources: DestinationRuleSpec[];
}

function applies(dr: MeshConfig<DestinationRuleSpec>, proxy: ProxyIdentity): boolean {
  const ws = dr.spec.workloadSelector?.matchLabels;
  // A workloadSelector only makes sense for the proxy's own namespace (Istio ignores it elsewhere).
  if (ws !== undefined && (dr.meta.namespace !== proxy.namespace || !labelsMatch(ws, proxy.labels))) return false;
  return exportedTo(dr.spec.exportTo, dr.meta.namespace, proxy.namespace);
}

function mergeRules(rules: MeshConfig<DestinationRuleSpec>[]): ResolvedDestinationRule {
  const first = rules[0] as MeshConfig<DestinationRuleSpec>;
  const subsets = [...(first.spec.subsets ?? [])];
  for (const r of rules.slice(1)) {
    for (const s of r.spec.subsets ?? []) if (!subsets.some((x) => x.name === s.name)) subsets.push(s);
  }
  const spec: DestinationRuleSpec = { ...first.spec };
  if (subsets.length > 0) spec.subsets = subsets;
  return { spec, provenance: { kind: 'DestinationRule', namespace: first.meta.namespace, name: first.meta.name }, ids: rules.map((r) => `${r.meta.namespace}/${r.meta.name}`), sources: rules.map((r) => r.spec) };
}

export function lookupDestinationRule(world: World, proxy: ProxyIdentity, svc: WorldService): ResolvedDestinationRule | undefined {
  const order = [...new Set([proxy.namespace, svc.meta.namespace, world.rootNamespace])];
  const ix = indexesOf(world).dr;
  for (const ns of order) {
    const n = ix.get(ns);
    if (n === undefined) continue;
    const exact = (n.exact.get(svc.hostname) ?? []).filter((dr) => applies(dr, proxy));
    if (exact.length > 0) return mergeRules(exact);
    let best: MeshConfig<DestinationRuleSpec>[] = [];
    let bestSpec = -1;
    let bestHost = '';
    // Index lists keep World order (oldest first), so `best` stays oldest first.
    for (const { host, item } of n.wildcard) {
      if (!hostMatches(host, svc.hostname) || !applies(item, proxy)) continue;
      const spec = hostSpecificity(host);
      if (spec > bestSpec) {
        best = [item];
        bestSpec = spec;
        bestHost = host;
      } else if (host === bestHost) best.push(item);
    }
    if (best.length > 0) return mergeRules(best);
  }
  return undefined;
}
