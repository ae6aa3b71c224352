/**
 * Per-cluster resilience counters, named as Envoy's cluster stats (`cluster.<name>.<stat>`),
 * served on the admin port at `/stats` and `/clusters`. Owned by the cluster's runtime object
 * (cluster-guard.ts): a snapshot that keeps a cluster hands its counters to the new runtime, so
 * they survive swaps (as Envoy's stats do); a cluster that goes away takes them along.
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

/** Fresh counters for a cluster that the previous snapshot did not have. */
export const newClusterStats = (): ClusterStats => ({
  upstream_rq_total: 0, upstream_rq_5xx: 0, upstream_rq_retry: 0, upstream_rq_retry_success: 0, upstream_rq_retry_overflow: 0, upstream_rq_retry_limit_exceeded: 0,
  upstream_rq_timeout: 0, upstream_rq_per_try_timeout: 0, upstream_rq_pending_overflow: 0, upstream_cx_overflow: 0, upstream_cx_connect_fail: 0, upstream_rq_reset: 0,
  outlier_detection_ejections_enforced_total: 0, outlier_detection_ejections_enforced_consecutive_5xx: 0, outlier_detection_ejections_enforced_consecutive_gateway_failure: 0,
  outlier_detection_ejections_enforced_consecutive_local_origin_failure: 0, outlier_detection_ejections_overflow: 0, outlier_detection_ejections_active: 0,
  fault_delays_injected: 0, fault_aborts_injected: 0,
});

/** What the admin views show of one cluster of the current snapshot. */
export interface ClusterView {
  name: string;
  stats: ClusterStats;
  /** Host-level lines (`<host>::<field>::<value>…`), with outlier detection. */
  hosts: () => string[];
}

/** Envoy's `/stats` text: `cluster.<name>.<stat>: <value>`, sorted. */
export function renderStats(views: Iterable<ClusterView>, filter?: string): string {
  const lines: string[] = [];
  for (const { name, stats } of views) for (const [k, v] of Object.entries(stats)) lines.push(`cluster.${name}.${k}: ${v}`);
  lines.sort();
  return `${(filter === undefined || filter === '' ? lines : lines.filter((l) => l.includes(filter))).join('\n')}\n`;
}

/** Envoy's `/clusters` text: per host `<cluster>::<host>::<field>::<value>` plus the counters. */
export function renderClusters(views: Iterable<ClusterView>): string {
  const lines: string[] = [];
  for (const { name, stats, hosts } of views) {
    for (const [k, v] of Object.entries(stats)) lines.push(`${name}::${k}::${v}`);
    for (const l of hosts()) lines.push(`${name}::${l}`);
  }
  return `${lines.join('\n')}\n`;
}
