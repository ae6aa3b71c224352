/**
 * The versioned app graph (Kiali's "versioned app" view) from per-second rates of Istio
 * metrics, whatever their source (Prometheus or the operator's own scrapes). Pure.
 *
 * Nodes are apps (`app:<ns>/<app>`, the `app` label, else the workload name), each with the
 * versions seen serving or calling (`version` label) and the share of its incoming traffic
 * each version served; callers outside the mesh are `unknown`, gateways are `ingress`, and
 * destinations with no mesh workload behind them (ServiceEntry hosts, passthrough) are
 * `external` (`ext:<host>`). Edges are app → app calls as the caller saw them (source
 * reporter, else the destination reporter when the caller has no sidecar), with req/s,
 * success rate (non-5xx share), p50/p90/p99, response codes and flags, the observed split
 * over destination versions, the services called, and mTLS from the destination reporter.
 */
import { histogramQuantile } from './quantile.ts';

export interface Row {
  labels: Record<string, string>;
  /** Per-second rate. */
  value: number;
}

export type Health = 'healthy' | 'degraded' | 'failing' | 'idle';
export type NodeKind = 'app' | 'ingress' | 'unknown' | 'external';
/** `full`: every request the server reported was mutual TLS; `partial`: some; `none`; `unknown`: no server-side report (e.g. external). */
export type MtlsState = 'full' | 'partial' | 'none' | 'unknown';

export interface VersionShare {
  version: string;
  workload: string;
  /** Requests (or TCP connections) per second this version served. */
  rps: number;
  /** Share of the app's incoming traffic, 0–1. */
  share: number;
}

export interface GraphNode {
  id: string;
  kind: NodeKind;
  /** App name (or host for external, `unknown`). */
  name: string;
  namespace: string;
  /** Cluster name, empty while every node is in one cluster. */
  cluster: string;
  versions: VersionShare[];
  /** Incoming req/s and success rate (all callers). */
  rpsIn: number;
  successRate: number;
  health: Health;
}

export interface Latency {
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface GraphEdge extends Latency {
  id: string;
  source: string;
  target: string;
  /** Service hosts called along this edge. */
  services: string[];
  rps: number;
  /** 0–1; 1 when idle. */
  successRate: number;
  /** Kept as p99Ms for older readers of graph.json. */
  p99Ms: number | null;
  mtls: MtlsState;
  health: Health;
  /** TCP-only edge: `rps` is new connections per second, success rate does not apply. */
  tcp: boolean;
  /** response code → req/s. */
  codes: Record<string, number>;
  /** response flag (UO, UH, URX, NR, RBAC…) → req/s; requests without a flag are not counted. */
  flags: Record<string, number>;
  /** Observed split over destination versions: version → share 0–1. */
  split: Record<string, number>;
  /** Workloads at each end (for explain: the caller's proxy). */
  sourceWorkloads: string[];
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
const known = (v: string | undefined): v is string => v !== undefined && v !== '' && v !== UNKNOWN;
const isError = (code: string | undefined): boolean => (code ?? '').startsWith('5') || code === '0';
const GATEWAY = /ingress|gateway/i;
const PASSTHROUGH = new Set(['PassthroughCluster', 'BlackHoleCluster', 'InboundPassthroughClusterIpv4', 'InboundPassthroughClusterIpv6']);

interface Acc {
  source: string;
  target: string;
  http: boolean;
  total: number;
  conns: number;
  errors: number;
  mtlsRps: number;
  /** Server-side series seen with mutual_tls / with anything else (for idle edges, where rates are 0). */
  mtlsSeen: boolean;
  plainSeen: boolean;
  codes: Map<string, number>;
  flags: Map<string, number>;
  split: Map<string, number>;
  services: Set<string>;
  sourceWorkloads: Set<string>;
  buckets: Map<number, number>;
}

interface Ends {
  src: { id: string; kind: NodeKind; name: string; ns: string; version: string; workload: string; cluster: string };
  dst: { id: string; kind: NodeKind; name: string; ns: string; version: string; workload: string; cluster: string };
}

/** Which app serves each mesh service host, learnt from rows that name the destination workload. */
function serviceApps(rows: readonly Row[]): Map<string, { app: string; ns: string }> {
  const m = new Map<string, { app: string; ns: string }>();
  for (const { labels: l } of rows) {
    if (!known(l.destination_workload) || !known(l.destination_service)) continue;
    if (!m.has(l.destination_service)) m.set(l.destination_service, { app: known(l.destination_app) ? l.destination_app : l.destination_workload, ns: l.destination_workload_namespace ?? UNKNOWN });
  }
  return m;
}

function endsOf(l: Record<string, string>, apps: Map<string, { app: string; ns: string }>): Ends {
  let src: Ends['src'];
  if (!known(l.source_workload)) src = { id: UNKNOWN, kind: 'unknown', name: UNKNOWN, ns: '', version: '', workload: '', cluster: '' };
  else {
    const name = known(l.source_app) ? l.source_app : l.source_workload;
    const ns = l.source_workload_namespace ?? UNKNOWN;
    src = { id: `app:${ns}/${name}`, kind: GATEWAY.test(name) ? 'ingress' : 'app', name, ns, version: known(l.source_version) ? l.source_version : '', workload: l.source_workload, cluster: known(l.source_cluster) ? l.source_cluster : '' };
  }
  const host = l.destination_service ?? UNKNOWN;
  const cluster = known(l.destination_cluster) ? l.destination_cluster : '';
  let dst: Ends['dst'];
  if (known(l.destination_workload)) {
    const name = known(l.destination_app) ? l.destination_app : l.destination_workload;
    const ns = l.destination_workload_namespace ?? UNKNOWN;
    dst = { id: `app:${ns}/${name}`, kind: GATEWAY.test(name) ? 'ingress' : 'app', name, ns, version: known(l.destination_version) ? l.destination_version : '', workload: l.destination_workload, cluster };
  } else if (apps.has(host)) {
    const a = apps.get(host)!;
    dst = { id: `app:${a.ns}/${a.app}`, kind: 'app', name: a.app, ns: a.ns, version: '', workload: '', cluster };
  } else if (PASSTHROUGH.has(host) || !known(l.destination_service_namespace) || !host.includes('.svc.')) {
    dst = { id: `ext:${host}`, kind: 'external', name: host, ns: '', version: '', workload: '', cluster: '' };
  } else {
    // A mesh service whose calls never reached a workload (no endpoints, refused): the service's name stands for its app.
    const name = l.destination_service_name ?? host;
    const ns = l.destination_service_namespace!;
    dst = { id: `app:${ns}/${name}`, kind: 'app', name, ns, version: '', workload: '', cluster };
  }
  return { src, dst };
}

function seenPolicy(a: Acc, policy: string | undefined, rps: number): void {
  if (policy === 'mutual_tls') {
    a.mtlsRps += rps;
    a.mtlsSeen = true;
  } else if (policy !== undefined && policy !== '' && policy !== UNKNOWN) a.plainSeen = true;
}

const q = (p: number, b: Map<number, number>): number | null => histogramQuantile(p, [...b].map(([le, value]) => ({ le, value }))) ?? null;
const toRecord = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

/** `tcp`: rates of istio_tcp_connections_opened_total (TCP services appear as edges too). */
export function buildGraph(requests: readonly Row[], buckets: readonly Row[], tcp: readonly Row[] = []): Graph {
  const apps = serviceApps([...requests, ...tcp]);
  const nodes = new Map<string, GraphNode & { vers: Map<string, { workload: string; rps: number }> }>();
  const node = (e: Ends['src']): GraphNode & { vers: Map<string, { workload: string; rps: number }> } => {
    let n = nodes.get(e.id);
    if (n === undefined) nodes.set(e.id, (n = { id: e.id, kind: e.kind, name: e.name, namespace: e.ns, cluster: e.cluster, versions: [], rpsIn: 0, successRate: 1, health: 'idle', vers: new Map() }));
    if (n.cluster === '' && e.cluster !== '') n.cluster = e.cluster;
    if (e.version !== '' && !n.vers.has(e.version)) n.vers.set(e.version, { workload: e.workload, rps: 0 });
    return n;
  };
  const acc = { src: new Map<string, Acc>(), dst: new Map<string, Acc>() };
  const get = (m: Map<string, Acc>, s: string, t: string): Acc => {
    const k = `${s}>${t}`;
    let a = m.get(k);
    if (a === undefined) m.set(k, (a = { source: s, target: t, http: false, total: 0, conns: 0, errors: 0, mtlsRps: 0, mtlsSeen: false, plainSeen: false, codes: new Map(), flags: new Map(), split: new Map(), services: new Set(), sourceWorkloads: new Set(), buckets: new Map() }));
    return a;
  };
  const add = (m: Map<string, number>, k: string, v: number): void => {
    m.set(k, (m.get(k) ?? 0) + v);
  };
  const visit = (r: Row): { a: Acc; ends: Ends; reporter: 'src' | 'dst' } => {
    const ends = endsOf(r.labels, apps);
    node(ends.src);
    node(ends.dst);
    const reporter = r.labels.reporter === 'source' ? 'src' : 'dst';
    const a = get(acc[reporter], ends.src.id, ends.dst.id);
    if (known(r.labels.destination_service)) a.services.add(r.labels.destination_service);
    if (ends.src.workload !== '') a.sourceWorkloads.add(`${ends.src.workload}.${ends.src.ns}`);
    return { a, ends, reporter };
  };
  for (const r of requests) {
    const { a, ends, reporter } = visit(r);
    a.http = true;
    a.total += r.value;
    const code = r.labels.response_code ?? '';
    if (isError(code)) a.errors += r.value;
    add(a.codes, code === '' ? '0' : code, r.value);
    const flags = r.labels.response_flags ?? '-';
    if (flags !== '-' && flags !== '') for (const f of flags.split(',')) add(a.flags, f, r.value);
    if (ends.dst.version !== '') add(a.split, ends.dst.version, r.value);
    if (reporter === 'dst') seenPolicy(a, r.labels.connection_security_policy, r.value);
  }
  for (const r of tcp) {
    const { a, ends, reporter } = visit(r);
    a.conns += r.value;
    if (ends.dst.version !== '') add(a.split, ends.dst.version, r.value);
    if (reporter === 'dst') seenPolicy(a, r.labels.connection_security_policy ?? r.labels.security_policy, r.value);
  }
  for (const r of buckets) {
    const ends = endsOf(r.labels, apps);
    const m = r.labels.reporter === 'source' ? acc.src : acc.dst;
    const a = m.get(`${ends.src.id}>${ends.dst.id}`);
    if (a === undefined) continue;
    const le = r.labels.le === '+Inf' ? Infinity : Number(r.labels.le);
    a.buckets.set(le, (a.buckets.get(le) ?? 0) + r.value);
  }
  const edges: GraphEdge[] = [];
  const incoming = new Map<string, { rps: number; errors: number }>();
  for (const k of [...new Set([...acc.src.keys(), ...acc.dst.keys()])].sort()) {
    const s = acc.src.get(k);
    const d = acc.dst.get(k);
    const main = (s ?? d)!;
    const tcpOnly = !(s?.http ?? false) && !(d?.http ?? false);
    const rps = tcpOnly ? main.conns : main.total;
    const successRate = !tcpOnly && rps > 0 ? 1 - main.errors / rps : 1;
    const dstTotal = d === undefined ? 0 : tcpOnly ? d.conns : d.total;
    const mtls: MtlsState = d === undefined ? 'unknown'
      : dstTotal > 0 ? (d.mtlsRps >= dstTotal * 0.999 ? 'full' : d.mtlsRps > 0 ? 'partial' : 'none')
        : d.mtlsSeen ? (d.plainSeen ? 'partial' : 'full') : d.plainSeen ? 'none' : 'unknown';
    // The split is the servers' view when there is one (the caller may not know the version it reached).
    const splitSrc = d !== undefined && d.split.size > 0 ? d.split : main.split;
    const splitTotal = [...splitSrc.values()].reduce((x, y) => x + y, 0);
    const split: Record<string, number> = {};
    for (const [v, x] of [...splitSrc].sort(([a], [b]) => a.localeCompare(b))) split[v] = splitTotal > 0 ? x / splitTotal : 0;
    const lat = { p50: q(0.5, main.buckets), p90: q(0.9, main.buckets), p99: q(0.99, main.buckets) };
    edges.push({
      id: k, source: main.source, target: main.target, services: [...new Set([...(s?.services ?? []), ...(d?.services ?? [])])].sort(), rps, successRate, ...lat, p99Ms: lat.p99, mtls,
      health: tcpOnly ? (rps > 0 ? 'healthy' : 'idle') : healthOf(rps, successRate), tcp: tcpOnly,
      codes: toRecord(main.codes), flags: toRecord(main.flags), split, sourceWorkloads: [...main.sourceWorkloads].sort(),
    });
    const inc = incoming.get(main.target) ?? { rps: 0, errors: 0 };
    inc.rps += rps;
    if (!tcpOnly) inc.errors += main.errors;
    incoming.set(main.target, inc);
    for (const [v, share] of Object.entries(split)) {
      const n = nodes.get(main.target)!;
      const ver = n.vers.get(v);
      if (ver !== undefined) ver.rps += share * rps;
    }
  }
  const out: GraphNode[] = [];
  // Cluster names matter only once there are several (one cluster: every node would say `Kubernetes`).
  const oneCluster = new Set([...nodes.values()].map((n) => n.cluster).filter((c) => c !== '')).size <= 1;
  for (const n of nodes.values()) {
    if (oneCluster) n.cluster = '';
    const inc = incoming.get(n.id) ?? { rps: 0, errors: 0 };
    const successRate = inc.rps > 0 ? 1 - inc.errors / inc.rps : 1;
    const total = [...n.vers.values()].reduce((x, v) => x + v.rps, 0);
    const versions = [...n.vers].map(([version, v]) => ({ version, workload: v.workload, rps: v.rps, share: total > 0 ? v.rps / total : 0 })).sort((a, b) => a.version.localeCompare(b.version, undefined, { numeric: true }));
    const { vers: _unused, ...rest } = n;
    out.push({ ...rest, versions, rpsIn: inc.rps, successRate, health: healthOf(inc.rps, successRate) });
  }
  return { nodes: out.sort((a, b) => a.id.localeCompare(b.id)), edges };
}

/** The latency percentiles of bucket rates (used for chart points). */
export function latencyOf(buckets: Map<number, number>): Latency {
  return { p50: q(0.5, buckets), p90: q(0.9, buckets), p99: q(0.99, buckets) };
}
