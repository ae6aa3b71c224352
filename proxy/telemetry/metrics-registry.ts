/**
 * The proxy's metric registry: Istio's standard request and TCP metrics, Envoy-like
 * per-cluster upstream stats, and the process metrics (the sidecar's own CPU and memory,
 * process-metrics.ts). One registry per proxy process, served on 15090 `/stats/prometheus`.
 */
import type { Registry } from './prom-lite.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { CounterFamily, FastRegistry, HistogramFamily, register } from './metrics-family.ts';

/** Envoy's default histogram buckets, which Istio uses for duration and byte histograms. */
export const ISTIO_BUCKETS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export interface MeshMetrics {
  registry: Registry;
  requests: CounterFamily;
  duration: HistogramFamily;
  requestBytes: HistogramFamily;
  responseBytes: HistogramFamily;
  tcpSent: CounterFamily;
  tcpReceived: CounterFamily;
  tcpOpened: CounterFamily;
  tcpClosed: CounterFamily;
  /** `envoy_cluster_upstream_rq_time{cluster_name}`: time from upstream request start to response end. */
  upstreamRqTime: HistogramFamily;
  upstreamRqTotal: CounterFamily;
  /** `envoy_cluster_upstream_rq_xx{envoy_response_code_class, cluster_name}`. */
  upstreamRqXx: CounterFamily;
}

export interface MeshMetricsOptions {
  /** Collect the process/nodejs metrics (CPU, RSS, heap, fds). Default true. */
  processMetrics?: boolean;
}

export function createMeshMetrics(opts: MeshMetricsOptions = {}): MeshMetrics {
  const registry = new FastRegistry();
  const m: MeshMetrics = {
    registry,
    requests: new CounterFamily('istio_requests_total', 'Requests processed by the proxy (Istio standard metric).'),
    duration: new HistogramFamily('istio_request_duration_milliseconds', 'Request duration in milliseconds (Istio standard metric).', ISTIO_BUCKETS),
    requestBytes: new HistogramFamily('istio_request_bytes', 'Request body sizes in bytes (Istio standard metric).', ISTIO_BUCKETS),
    responseBytes: new HistogramFamily('istio_response_bytes', 'Response body sizes in bytes (Istio standard metric).', ISTIO_BUCKETS),
    tcpSent: new CounterFamily('istio_tcp_sent_bytes_total', 'Bytes sent to the downstream on TCP connections (Istio standard metric).'),
    tcpReceived: new CounterFamily('istio_tcp_received_bytes_total', 'Bytes received from the downstream on TCP connections (Istio standard metric).'),
    tcpOpened: new CounterFamily('istio_tcp_connections_opened_total', 'TCP connections opened (Istio standard metric).'),
    tcpClosed: new CounterFamily('istio_tcp_connections_closed_total', 'TCP connections closed (Istio standard metric).'),
    upstreamRqTime: new HistogramFamily('envoy_cluster_upstream_rq_time', 'Upstream request time in milliseconds, per cluster.', ISTIO_BUCKETS),
    upstreamRqTotal: new CounterFamily('envoy_cluster_upstream_rq_total', 'Upstream requests, per cluster.'),
    upstreamRqXx: new CounterFamily('envoy_cluster_upstream_rq_xx', 'Upstream responses by status class, per cluster.'),
  };
  for (const f of [m.requests, m.duration, m.requestBytes, m.responseBytes, m.tcpSent, m.tcpReceived, m.tcpOpened, m.tcpClosed, m.upstreamRqTime, m.upstreamRqTotal, m.upstreamRqXx]) register(registry, f);
  if (opts.processMetrics !== false) registerProcessMetrics(registry);
  return m;
}
