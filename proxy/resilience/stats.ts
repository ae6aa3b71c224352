/**
 * Per-cluster resilience counters, named as Envoy's cluster stats (`cluster.<name>.<stat>`),
 * served on the admin port at `/stats` and `/clusters`. Kept per cluster name for the life
 * of the process, so they survive snapshot swaps (as Envoy's stats do).
 */
export interface ClusterStats {
  upstream_rq_total: number;
  upstream_rq_5xx: number;
  upstream_rq_retry: number;
  upstream_rq_retry_success: number;
  upstream_rq_retry_overflow: number;
  upstream_rq_retry_limit_exceeded: number;
  upstream_rq_timeout: number;
  upstream_rq_per_try_timeout: number;
  upstream_rq_pending_overflow: number;
  upstream_cx_overflow: number;
  upstream_cx_connect_fail: number;
  upstream_rq_reset: number;
  outlier_detection_ejections_enforced_total: number;
  outlier_detection_ejections_enforced_consecutive_5xx: number;
  outlier_detection_ejections_enforced_consecutive_gateway_failure: number;
  outlier_detection_ejections_enforced_consecutive_local_origin_failure: number;
  outlier_detection_ejections_overflow: number;
  outlier_detection_ejections_active: number;
  fault_delays_injected: number;
  fault_aborts_injected: number;
}

const zero = (): ClusterStats => ({
  upstream_rq_total: 0, upstream_rq_5xx: 0, upstream_rq_retry: 0, upstream_rq_retry_success: 0, upstream_rq_retry_overflow: 0, upstream_rq_retry_limit_exceeded: 0,
  upstream_rq_timeout: 0, upstream_rq_per_try_timeout: 0, upstream_rq_pending_overflow: 0, upstream_cx_overflow: 0, upstream_cx_connect_fail: 0, upstream_rq_reset: 0,
  outlier_detection_ejections_enforced_total: 0, outlier_detection_ejections_enforced_consecutive_5xx: 0, outlier_detection_ejections_enforced_consecutive_gateway_failure: 0,
  outlier_detection_ejections_enforced_consecutive_local_origin_failure: 0, outlier_detection_ejections_overflow: 0, outlier_detection_ejections_active: 0,
  fault_delays_injected: 0, fault_aborts_injected: 0,
});

const all = new Map<string, ClusterStats>();

/** The counters of a cluster (created on first use). Call at compose time and keep the object. */
export function clusterStats(name: string): ClusterStats {
  let s = all.get(name);
  if (s === undefined) all.set(name, (s = zero()));
  return s;
}

/** Host-level view for `/clusters`: filled in by the cluster guards. */
export type HostLines = () => string[];
const hostViews = new Map<string, HostLines>();
export function registerHostView(cluster: string, view: HostLines): void {
  hostViews.set(cluster, view);
}

/** Envoy's `/stats` text: `cluster.<name>.<stat>: <value>`, sorted. */
export function renderStats(filter?: string): string {
  const lines: string[] = [];
  for (const [name, s] of all) for (const [k, v] of Object.entries(s)) lines.push(`cluster.${name}.${k}: ${v}`);
  lines.sort();
  return `${(filter === undefined || filter === '' ? lines : lines.filter((l) => l.includes(filter))).join('\n')}\n`;
}

/** Envoy's `/clusters` text: per host `<cluster>::<host>::<field>::<value>` plus the counters. */
export function renderClusters(): string {
  const lines: string[] = [];
  for (const [name, s] of all) {
    for (const [k, v] of Object.entries(s)) lines.push(`${name}::${k}::${v}`);
    for (const l of hostViews.get(name)?.() ?? []) lines.push(`${name}::${l}`);
  }
  return `${lines.join('\n')}\n`;
}
