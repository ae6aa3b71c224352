/** DestinationRule traffic policy (top level ← port level ← subset) → Cluster fields. */
import type { ClusterTls, ConnectionPool, LoadBalancer, OutlierDetection } from '../../common/snapshot.ts';
import type { DestinationRuleSpec, IstioTrafficPolicy, IstioTrafficPolicyBase } from './istio-types.ts';
import { durationMs } from './duration.ts';

const U32 = 4294967295;

/** Envoy/Istio defaults, as in the contract's example snapshot. */
export function defaultConnectionPool(): ConnectionPool {
  return { maxConnections: U32, connectTimeoutMs: 10000, http1MaxPendingRequests: U32, http2MaxRequests: U32, maxRequestsPerConnection: 0, maxRetries: U32, idleTimeoutMs: 3600000, maxConcurrentStreams: 2147483647 };
}

/** Each top-level field of a more specific policy replaces the whole field (Istio semantics). */
function overlay(base: IstioTrafficPolicyBase, top: IstioTrafficPolicy | undefined, port: number): IstioTrafficPolicyBase {
  if (top === undefined) return base;
  const out: IstioTrafficPolicyBase = { ...base };
  const layers: IstioTrafficPolicyBase[] = [top, ...(top.portLevelSettings ?? []).filter((p) => p.port?.number === port)];
  for (const l of layers) {
    if (l.loadBalancer !== undefined) out.loadBalancer = l.loadBalancer;
    if (l.connectionPool !== undefined) out.connectionPool = l.connectionPool;
    if (l.outlierDetection !== undefined) out.outlierDetection = l.outlierDetection;
    if (l.tls !== undefined) out.tls = l.tls;
  }
  return out;
}

function loadBalancer(p: IstioTrafficPolicyBase['loadBalancer']): LoadBalancer {
  if (p === undefined) return { policy: 'ROUND_ROBIN' };
  let lb: LoadBalancer;
  const ch = p.consistentHash;
  if (ch !== undefined) {
    lb = { policy: ch.maglev !== undefined ? 'MAGLEV' : 'RING_HASH' };
    if (ch.httpHeaderName !== undefined) lb.hashOn = { kind: 'header', name: ch.httpHeaderName.toLowerCase() };
    else if (ch.httpCookie !== undefined) {
      const c: { kind: 'cookie'; name: string; ttlMs?: number; path?: string } = { kind: 'cookie', name: ch.httpCookie.name };
      if (ch.httpCookie.ttl !== undefined) c.ttlMs = durationMs(ch.httpCookie.ttl, 0);
      if (ch.httpCookie.path !== undefined) c.path = ch.httpCookie.path;
      lb.hashOn = c;
    } else if (ch.httpQueryParameterName !== undefined) lb.hashOn = { kind: 'queryParameter', name: ch.httpQueryParameterName };
    else lb.hashOn = { kind: 'sourceIp' };
    const size = ch.maglev?.tableSize ?? ch.ringHash?.minimumRingSize ?? ch.minimumRingSize;
    if (size !== undefined) lb.tableSize = size;
  } else {
    const simple = p.simple ?? 'ROUND_ROBIN';
    lb = { policy: simple === 'LEAST_CONN' || simple === 'LEAST_REQUEST' ? 'LEAST_REQUEST' : simple === 'UNSPECIFIED' ? 'ROUND_ROBIN' : simple };
  }
  if (p.warmupDurationSecs !== undefined) lb.warmupMs = durationMs(p.warmupDurationSecs, 0);
  return lb;
}

function connectionPool(p: IstioTrafficPolicyBase['connectionPool']): ConnectionPool {
  const out = defaultConnectionPool();
  if (p === undefined) return out;
  const t = p.tcp ?? {};
  const h = p.http ?? {};
  if (t.maxConnections !== undefined) out.maxConnections = t.maxConnections;
  out.connectTimeoutMs = durationMs(t.connectTimeout, out.connectTimeoutMs);
  if (t.tcpKeepalive !== undefined) {
    out.tcpKeepalive = { timeMs: durationMs(t.tcpKeepalive.time, 7_200_000), intervalMs: durationMs(t.tcpKeepalive.interval, 75_000), probes: t.tcpKeepalive.probes ?? 9 };
  }
  if (h.http1MaxPendingRequests !== undefined) out.http1MaxPendingRequests = h.http1MaxPendingRequests;
  if (h.http2MaxRequests !== undefined) out.http2MaxRequests = h.http2MaxRequests;
  if (h.maxRequestsPerConnection !== undefined) out.maxRequestsPerConnection = h.maxRequestsPerConnection;
  if (h.maxRetries !== undefined) out.maxRetries = h.maxRetries;
  if (h.maxConcurrentStreams !== undefined) out.maxConcurrentStreams = h.maxConcurrentStreams;
  out.idleTimeoutMs = durationMs(h.idleTimeout ?? t.idleTimeout, out.idleTimeoutMs);
  return out;
}

function outlier(o: IstioTrafficPolicyBase['outlierDetection']): OutlierDetection | undefined {
  if (o === undefined) return undefined;
  return {
    consecutive5xxErrors: o.consecutive5xxErrors ?? 5,
    consecutiveGatewayErrors: o.consecutiveGatewayErrors ?? 0,
    // Envoy counts local-origin failures separately only when asked to split them.
    consecutiveLocalOriginFailures: o.splitExternalLocalOriginErrors === true ? (o.consecutiveLocalOriginFailures ?? 5) : 0,
    intervalMs: durationMs(o.interval, 10_000),
    baseEjectionTimeMs: durationMs(o.baseEjectionTime, 30_000),
    maxEjectionPercent: o.maxEjectionPercent ?? 10,
    minHealthPercent: o.minHealthPercent ?? 0,
  };
}

export interface ClusterPolicy {
  loadBalancer: LoadBalancer;
  connectionPool: ConnectionPool;
  outlierDetection?: OutlierDetection;
  tls: ClusterTls;
}

export function clusterPolicy(spec: DestinationRuleSpec | undefined, port: number, subset: string | undefined): ClusterPolicy {
  let p = overlay({}, spec?.trafficPolicy, port);
  if (subset !== undefined) p = overlay(p, spec?.subsets?.find((s) => s.name === subset)?.trafficPolicy, port);
  const tls: ClusterTls = { mode: p.tls?.mode ?? 'AUTO' };
  if (p.tls?.sni !== undefined) tls.sni = p.tls.sni;
  const out: ClusterPolicy = { loadBalancer: loadBalancer(p.loadBalancer), connectionPool: connectionPool(p.connectionPool), tls };
  const od = outlier(p.outlierDetection);
  if (od !== undefined) out.outlierDetection = od;
  return out;
}
