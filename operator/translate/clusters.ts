/** Outbound clusters and their endpoint sets, one per (service, port, subset). */
import type { Cluster, Endpoint } from '../../common/snapshot.ts';
import type { ServicePort, WorldEndpoint, WorldService } from '../world/types.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../common/spiffe.ts';
import { labelsMatch } from '../world/workloads.ts';
import { clusterPolicy } from './cluster-policy.ts';
import { destinationRuleFor, type Ctx } from './context.ts';

export function clusterName(port: number, subset: string | undefined, host: string): string {
  return `outbound|${port}|${subset ?? ''}|${host}`;
}

function toEndpoint(e: WorldEndpoint, port: number, local: { inboundPort: number } | undefined, trustDomain: string): Endpoint {
  const labels = e.workload?.labels ?? {};
  // Local mode has no capture: a meshed workload is reached at its own sidecar's inbound
  // listener (same address), which terminates mTLS, enforces policy and forwards to the app.
  const viaSidecar = local !== undefined && e.workload?.hasSidecar === true;
  const out: Endpoint = { address: e.address, port: viaSidecar ? local.inboundPort : port, labels, weight: 1, healthy: true };
  if (e.zone !== undefined) out.locality = { region: '', zone: e.zone, subzone: '' };
  const w = e.workload;
  if (w !== undefined) {
    if (w.hasSidecar) out.identity = `spiffe://${trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`;
    const meta: NonNullable<Endpoint['workload']> = { name: w.workloadName, namespace: w.namespace };
    if (labels.app !== undefined) meta.app = labels.app;
    if (labels.version !== undefined) meta.version = labels.version;
    out.workload = meta;
  }
  return out;
}

/** Ready endpoints of a service port, filtered by subset labels. Unready ones are left out. */
function endpointsFor(ctx: Ctx, svc: WorldService, port: ServicePort, subsetLabels: Record<string, string> | undefined): Endpoint[] {
  const out: Endpoint[] = [];
  for (const e of ctx.world.endpoints[`${svc.meta.namespace}/${svc.meta.name}`] ?? []) {
    const target = e.ports[port.name];
    if (!e.ready || target === undefined) continue;
    if (subsetLabels !== undefined && !labelsMatch(subsetLabels, e.workload?.labels ?? {})) continue;
    out.push(toEndpoint(e, target, ctx.world.localMode, ctx.world.trustDomain ?? DEFAULT_TRUST_DOMAIN));
  }
  return out;
}

/**
 * Makes sure the cluster exists and returns its name; undefined when the subset is not
 * defined by the DestinationRule that applies (Istio: no such cluster, 503 NC).
 */
export function ensureCluster(ctx: Ctx, svc: WorldService, port: ServicePort, subset: string | undefined): string | undefined {
  const name = clusterName(port.port, subset, svc.hostname);
  if (ctx.clusters.has(name)) return name;
  const dr = destinationRuleFor(ctx, svc);
  let subsetLabels: Record<string, string> | undefined;
  if (subset !== undefined) {
    const def = dr?.spec.subsets?.find((s) => s.name === subset);
    if (def === undefined) return undefined;
    subsetLabels = def.labels ?? {};
  }
  const svcProv = { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name };
  const cluster: Cluster = {
    name,
    service: svc.hostname,
    port: port.port,
    protocol: port.protocol,
    ...clusterPolicy(dr?.spec, port.port, subset),
    endpointSet: name,
    provenance: dr?.provenance ?? svcProv,
  };
  if (subset !== undefined) cluster.subset = subset;
  ctx.clusters.set(name, cluster);
  ctx.endpointSets.set(name, { name, endpoints: endpointsFor(ctx, svc, port, subsetLabels), provenance: svcProv });
  return name;
}

/** The default cluster of every port, plus one per subset of its DestinationRule (as Istio does). */
export function ensureServiceClusters(ctx: Ctx, svc: WorldService): void {
  const subsets = destinationRuleFor(ctx, svc)?.spec.subsets ?? [];
  for (const port of svc.ports) {
    ensureCluster(ctx, svc, port, undefined);
    for (const s of subsets) ensureCluster(ctx, svc, port, s.name);
  }
}
