/** Istio Destination (host, subset, port) → cluster name, within what the proxy can see. */
import type { WeightedCluster, HeaderOps } from '../../common/snapshot.ts';
import type { WorldService } from '../world/types.ts';
import type { IstioDestination, IstioHeaderOps, IstioRouteDestination } from './istio-types.ts';
import { resolveHost } from './hosts.ts';
import { ensureCluster } from './clusters.ts';
import type { Ctx } from './context.ts';

export type Resolved = { ok: true; cluster: string } | { ok: false; code: 'MESHLET_OPERATOR_UNKNOWN_HOST' | 'MESHLET_OPERATOR_UNKNOWN_SUBSET'; detail: string };

/**
 * Port rules as Istio: an explicit port; else the service's only port; else the port the
 * traffic came in on (when the destination has it); else its first port.
 */
export function resolveDestination(ctx: Ctx, d: IstioDestination, ownerNs: string, listenerPort: number): Resolved {
  const host = resolveHost(d.host, ownerNs);
  const svc: WorldService | undefined = ctx.byHost.get(host);
  if (svc === undefined || svc.ports.length === 0) return { ok: false, code: 'MESHLET_OPERATOR_UNKNOWN_HOST', detail: host };
  const wanted = d.port?.number;
  const port =
    wanted !== undefined ? svc.ports.find((p) => p.port === wanted) : svc.ports.length === 1 ? svc.ports[0] : (svc.ports.find((p) => p.port === listenerPort) ?? svc.ports[0]);
  if (port === undefined) return { ok: false, code: 'MESHLET_OPERATOR_UNKNOWN_HOST', detail: `${host}:${wanted}` };
  const cluster = ensureCluster(ctx, svc, port, d.subset);
  if (cluster === undefined) return { ok: false, code: 'MESHLET_OPERATOR_UNKNOWN_SUBSET', detail: `${host} subset ${d.subset ?? ''}` };
  return { ok: true, cluster };
}

export function headerOps(ops: IstioHeaderOps | undefined): HeaderOps | undefined {
  if (ops === undefined) return undefined;
  const out: HeaderOps = {};
  const lower = (m: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));
  if (ops.set !== undefined) out.set = lower(ops.set);
  if (ops.add !== undefined) out.add = lower(ops.add);
  if (ops.remove !== undefined) out.remove = ops.remove.map((r) => r.toLowerCase());
  return out;
}

export function headerEdits(h: { request?: IstioHeaderOps; response?: IstioHeaderOps } | undefined): { request?: HeaderOps; response?: HeaderOps } | undefined {
  if (h === undefined) return undefined;
  const out: { request?: HeaderOps; response?: HeaderOps } = {};
  const req = headerOps(h.request);
  const res = headerOps(h.response);
  if (req !== undefined) out.request = req;
  if (res !== undefined) out.response = res;
  return out;
}

/**
 * Weighted destinations; unresolvable ones are dropped (with the first error returned).
 * A lone destination gets weight 100; several without any weight share equally.
 */
export function weightedClusters(ctx: Ctx, route: IstioRouteDestination[], ownerNs: string, listenerPort: number): { destinations: WeightedCluster[]; error?: Exclude<Resolved, { ok: true }> } {
  const destinations: WeightedCluster[] = [];
  let error: Exclude<Resolved, { ok: true }> | undefined;
  const allUnweighted = route.every((r) => (r.weight ?? 0) === 0);
  for (const r of route) {
    const res = resolveDestination(ctx, r.destination, ownerNs, listenerPort);
    if (!res.ok) {
      error ??= res;
      continue;
    }
    const weight = route.length === 1 ? (r.weight !== undefined && r.weight > 0 ? r.weight : 100) : allUnweighted ? 1 : (r.weight ?? 0);
    const wc: WeightedCluster = { cluster: res.cluster, weight };
    const h = headerEdits(r.headers);
    if (h !== undefined) wc.headers = h;
    destinations.push(wc);
  }
  if (destinations.length > 0 && destinations.every((d) => d.weight === 0)) for (const d of destinations) d.weight = 1;
  return error === undefined ? { destinations } : { destinations, error };
}
