/**
 * Counts the replies the proxy makes before a route chain runs (404 NR, 503 NC) in
 * `istio_requests_total`, as Envoy does: outbound under Istio's `BlackHoleCluster`
 * (destination_service "unknown"), inbound under an unknown inbound cluster.
 */
import type { Cluster } from '../common/snapshot.ts';
import type { DownstreamRequest } from './chain/types.ts';
import type { ProxyTelemetry } from './telemetry/telemetry.ts';

const prov = { kind: 'default', namespace: '', name: 'proxy' };
const pool = { maxConnections: 0, connectTimeoutMs: 0, http1MaxPendingRequests: 0, http2MaxRequests: 0, maxRequestsPerConnection: 0, maxRetries: 0, idleTimeoutMs: 0, maxConcurrentStreams: 0 };
// Fixed objects: the metric bindings are cached per Cluster object.
const OUTBOUND: Cluster = { name: 'BlackHoleCluster', service: 'unknown', port: 0, protocol: 'http', loadBalancer: { policy: 'ROUND_ROBIN' }, connectionPool: pool, tls: { mode: 'DISABLE' }, endpointSet: '', provenance: prov };
const INBOUND: Cluster = { ...OUTBOUND, name: 'inbound|0||', service: 'inbound|0||' };

export function localReplyRecorder(t: ProxyTelemetry): (direction: 'inbound' | 'outbound', status: number, flag: string, req: DownstreamRequest) => void {
  return (direction, status, flag, req) => {
    const cur = t.current;
    if (cur === undefined || !cur.metrics.enabled) return;
    const ct = req.headers['content-type'];
    const grpc = typeof ct === 'string' && ct.startsWith('application/grpc');
    cur.metrics.forCluster(direction === 'inbound' ? INBOUND : OUTBOUND, []).http.record({ code: status, flags: flag, grpcStatus: '', grpc, peer: undefined, mtls: false, durationMs: 0, requestBytes: 0, responseBytes: 0 });
  };
}
