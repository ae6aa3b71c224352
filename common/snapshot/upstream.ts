/** ProxySnapshot, the upstream side: clusters (balancing, circuit breaking, TLS) and endpoints. */
import type { Protocol, Provenance } from './base.ts';

export const LB_POLICIES = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH', 'RING_HASH', 'MAGLEV'] as const;
export const TLS_MODES = ['AUTO', 'ISTIO_MUTUAL', 'DISABLE', 'SIMPLE', 'MUTUAL'] as const;

/** Load-balancing algorithm of a cluster. */
export interface LoadBalancer {
  /** Algorithm; `RING_HASH`/`MAGLEV` need `hashOn`. */
  policy: (typeof LB_POLICIES)[number];
  /** What a consistent hash is computed from. */
  hashOn?:
    | { kind: 'header'; name: string }
    | { kind: 'cookie'; name: string; ttlMs?: number; path?: string }
    | { kind: 'sourceIp' }
    | { kind: 'queryParameter'; name: string };
  /** Ring size (RING_HASH minimum ring size, or MAGLEV table size, a prime). */
  tableSize?: number;
  /** Slow-start window for new endpoints, ms. */
  warmupMs?: number;
}

/** DestinationRule connectionPool limits; exceeding one gives 503 with flag UO. */
export interface ConnectionPool {
  /** Max connections to all endpoints of the cluster. */
  maxConnections: number;
  /** TCP connect timeout, ms. */
  connectTimeoutMs: number;
  /** TCP keepalive probes, when set. */
  tcpKeepalive?: { timeMs: number; intervalMs: number; probes: number };
  /** Max requests waiting for a connection (HTTP/1.1). */
  http1MaxPendingRequests: number;
  /** Max concurrent requests (HTTP/2). */
  http2MaxRequests: number;
  /** Max requests per connection before it is closed; 0 = unlimited. */
  maxRequestsPerConnection: number;
  /** Max concurrent retries across the cluster. */
  maxRetries: number;
  /** Idle timeout of upstream connections, ms. */
  idleTimeoutMs: number;
  /** Max concurrent streams per HTTP/2 connection. */
  maxConcurrentStreams: number;
}

/** Outlier detection (passive health checking). */
export interface OutlierDetection {
  /** Consecutive 5xx (incl. gateway errors) before ejection; 0 disables. */
  consecutive5xxErrors: number;
  /** Consecutive 502/503/504 before ejection; 0 disables. */
  consecutiveGatewayErrors: number;
  /** Consecutive locally originated failures (connect/reset) before ejection; 0 disables. */
  consecutiveLocalOriginFailures: number;
  /** How often ejections are analysed, ms. */
  intervalMs: number;
  /** Base ejection time, ms (multiplied by the number of ejections). */
  baseEjectionTimeMs: number;
  /** Max share of hosts ejected, percent. */
  maxEjectionPercent: number;
  /** Below this share of healthy hosts, panic mode uses all hosts, percent. */
  minHealthPercent: number;
}

/** How the proxy talks to a cluster's endpoints. */
export interface ClusterTls {
  /** `ISTIO_MUTUAL`: mesh mTLS; `DISABLE`: plaintext; `AUTO`: mTLS to endpoints that have a sidecar. */
  mode: (typeof TLS_MODES)[number];
  /** SNI to send (SIMPLE/MUTUAL). */
  sni?: string;
}

/** An upstream cluster: one service port, optionally one subset. */
export interface Cluster {
  /** Istio-style name `outbound|<port>|<subset>|<host>` or `inbound|<port>||`. */
  name: string;
  /** Fully qualified service host, e.g. `reviews.default.svc.cluster.local`. */
  service: string;
  /** Service port. */
  port: number;
  /** Subset name, if any. */
  subset?: string;
  /** Protocol spoken to the endpoints. */
  protocol: Protocol;
  /** Load balancer. */
  loadBalancer: LoadBalancer;
  /** Circuit-breaker limits. */
  connectionPool: ConnectionPool;
  /** Outlier detection, when configured. */
  outlierDetection?: OutlierDetection;
  /** Upstream TLS. */
  tls: ClusterTls;
  /** Name of the EndpointSet holding this cluster's endpoints. */
  endpointSet: string;
  provenance: Provenance;
}

/** Locality of an endpoint. */
export interface Locality {
  region: string;
  zone: string;
  subzone: string;
}

/** One upstream endpoint. */
export interface Endpoint {
  /** IP address. */
  address: string;
  /** Target port. */
  port: number;
  /** Workload labels (subsets already resolved by translation; kept for explain). */
  labels: Record<string, string>;
  /** Locality, when known. */
  locality?: Locality;
  /** Load-balancing weight (≥ 1). */
  weight: number;
  /** Ready per EndpointSlice conditions; unhealthy ones are not used. */
  healthy: boolean;
  /** SPIFFE identity of the endpoint's sidecar; absent when it has none (plaintext under AUTO). */
  identity?: string;
  /** Workload metadata for metrics. */
  workload?: { name: string; namespace: string; app?: string; version?: string };
}

/** The endpoints of one cluster. */
export interface EndpointSet {
  /** Name referenced by `Cluster.endpointSet`. */
  name: string;
  /** Endpoints. */
  endpoints: Endpoint[];
  provenance: Provenance;
}
