/**
 * The service graph from per-second rates of Istio metrics, whatever their source
 * (Prometheus or the operator's own scrapes). Pure.
 *
 * Nodes: workloads (`wl:<ns>/<name>`), services (`svc:<host>`) and `unknown` (callers
 * outside the mesh). Edges: workload → service (the call as its caller saw it: source
 * reporter, else destination reporter when the caller has no sidecar) and service →
 * workload (which workloads served it: destination reporter, else source reporter). Each
 * edge has req/s, success rate (non-5xx share), p99 in ms and an mTLS marker (a
 * destination-reporter series with connection_security_policy="mutual_tls").
 */
import { histogramQuantile } from './quantile.ts';

export interface Row {
  labels: Record<string, string>;
  /** Per-second rate. */
  value: number;
}

export type Health = 'healthy' | 'degraded' | 'failing' | 'idle';

export interface GraphNode {
  id: string;
  kind: 'workload' | 'service' | 'unknown';
  name: string;
  namespace: string;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  rps: number;
  /** 0–1; 1 when idle. */
  successRate: number;
  p99Ms: number | null;
  mtls: boolean;
  health: Health;
  /** TCP-only edge: `rps` is new connections per second, success rate does not apply. */
  tcp: boolean;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Error share at or above which an edge is failing (red), and degraded (orange). Kiali uses 20% / 0.1%. */
export const FAILING_AT = 0.2;
export const DEGRADED_AT = 0.001;

export function healthOf(rps: number, successRate: number): Health {
  if (rps <= 0) return 'idle';
  const err = 1 - successRate;
  if (err >= FAILING_AT) return 'failing';
  if (err >= DEGRADED_AT) return 'degraded';
  return 'healthy';
}

const UNKNOWN = 'unknown';

function workloadId(name: string | undefined, ns: string | undefined): string {
  return name === undefined || name === UNKNOWN || name === '' ? UNKNOWN : `wl:${ns ?? UNKNOWN}/${name}`;
}

interface Acc {
  source: string;
  target: string;
  total: number;
  /** TCP connections opened per second. */
  conns: number;
  /** Some HTTP request series fed this edge. */
  http: boolean;
  errors: number;
  mtls: boolean;
  buckets: Map<number, number>;
}

/** `tcp`: rates of istio_tcp_connections_opened_total (TCP services appear as edges too). */
export function buildGraph(requests: readonly Row[], buckets: readonly Row[], tcp: readonly Row[] = []): Graph {
  const nodes = new Map<string, GraphNode>();
  const addNode = (id: string, kind: GraphNode['kind'], name: string, namespace: string): void => {
    if (!nodes.has(id)) nodes.set(id, { id, kind, name, namespace });
  };
  // Edge accumulators per reporter, so each edge uses the best reporter for it.
  const acc = { src: new Map<string, Acc>(), dst: new Map<string, Acc>() };
  const edgesOf = (l: Record<string, string>): [string, string][] => {
    const src = workloadId(l.source_workload, l.source_workload_namespace);
    const svc = `svc:${l.destination_service ?? UNKNOWN}`;
    const dst = workloadId(l.destination_workload, l.destination_workload_namespace);
    if (src === UNKNOWN) addNode(UNKNOWN, 'unknown', UNKNOWN, '');
    else addNode(src, 'workload', l.source_workload!, l.source_workload_namespace ?? UNKNOWN);
    addNode(svc, 'service', l.destination_service_name ?? l.destination_service ?? UNKNOWN, l.destination_service_namespace ?? UNKNOWN);
    const out: [string, string][] = [[src, svc]];
    if (dst !== UNKNOWN) {
      addNode(dst, 'workload', l.destination_workload!, l.destination_workload_namespace ?? UNKNOWN);
      out.push([svc, dst]);
    }
    return out;
  };
  const get = (m: Map<string, Acc>, s: string, t: string): Acc => {
    const k = `${s}>${t}`;
    let a = m.get(k);
    if (a === undefined) m.set(k, (a = { source: s, target: t, total: 0, conns: 0, http: false, errors: 0, mtls: false, buckets: new Map() }));
    return a;
  };
  for (const r of requests) {
    const m = r.labels.reporter === 'source' ? acc.src : acc.dst;
    for (const [s, t] of edgesOf(r.labels)) {
      const a = get(m, s, t);
      a.http = true;
      a.total += r.value;
      if ((r.labels.response_code ?? '').startsWith('5') || r.labels.response_code === '0') a.errors += r.value;
      if (r.labels.connection_security_policy === 'mutual_tls') a.mtls = true;
    }
  }
  for (const r of tcp) {
    const m = r.labels.reporter === 'source' ? acc.src : acc.dst;
    for (const [s, t] of edgesOf(r.labels)) {
      const a = get(m, s, t);
      a.conns += r.value;
      if (r.labels.connection_security_policy === 'mutual_tls') a.mtls = true;
    }
  }
  for (const r of buckets) {
    const m = r.labels.reporter === 'source' ? acc.src : acc.dst;
    const le = r.labels.le === '+Inf' ? Infinity : Number(r.labels.le);
    for (const [s, t] of edgesOf(r.labels)) {
      const a = get(m, s, t);
      a.buckets.set(le, (a.buckets.get(le) ?? 0) + r.value);
    }
  }
  const edges: GraphEdge[] = [];
  const keys = new Set([...acc.src.keys(), ...acc.dst.keys()]);
  for (const k of [...keys].sort()) {
    const s = acc.src.get(k);
    const d = acc.dst.get(k);
    const fromTarget = k.startsWith('svc:');
    // Calls: the caller's view first; who served a service: the server's view first.
    const main = (fromTarget ? d ?? s : s ?? d)!;
    const tcpOnly = !(s?.http ?? false) && !(d?.http ?? false);
    const rps = tcpOnly ? main.conns : main.total;
    const successRate = !tcpOnly && rps > 0 ? 1 - main.errors / rps : 1;
    const q = histogramQuantile(0.99, [...main.buckets].map(([le, value]) => ({ le, value })));
    edges.push({ id: k, source: main.source, target: main.target, rps, successRate, p99Ms: q === undefined ? null : q, mtls: (d?.mtls ?? false) || (s?.mtls ?? false), health: tcpOnly ? (rps > 0 ? 'healthy' : 'idle') : healthOf(rps, successRate), tcp: tcpOnly });
  }
  return { nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)), edges };
}
