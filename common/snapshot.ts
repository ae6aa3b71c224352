/**
 * The ProxySnapshot: everything one sidecar needs, produced by the operator's pure
 * `translate(world, proxy)` and consumed by the proxy. DESIGN.md §3 is the contract.
 * Durations are whole milliseconds (translation converts Istio's "1.5s" strings), so the
 * proxy never parses durations on its hot path.
 */

/** The object that produced an item: used in metric labels, `meshlet explain` and error text. */
export interface Provenance {
  /** Kind of the source object, e.g. `VirtualService`, `Service`, `DestinationRule`, or `default`. */
  kind: string;
  /** Namespace of the source object (empty for mesh-wide defaults). */
  namespace: string;
  /** Name of the source object. */
  name: string;
}

/** Who the proxy is, from the downward API. */
export interface ProxyIdentity {
  /** Unique proxy id: `<pod>.<namespace>`. */
  id: string;
  /** Pod namespace. */
  namespace: string;
  /** Workload name (owning Deployment etc., else the pod name). */
  workload: string;
  /** Kubernetes service account of the pod. */
  serviceAccount: string;
  /** Pod labels (drive workload selectors and `sourceLabels` matches). */
  labels: Record<string, string>;
  /** Pod IP address (a loopback address in local mode). */
  ip: string;
  /** SPIFFE identity `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`. */
  spiffeId: string;
}

export type Protocol = 'http' | 'http2' | 'grpc' | 'tcp' | 'tls' | 'auto';

/** One listening socket or one virtual listener under the capture ports. */
export interface Listener {
  /** Unique listener name, e.g. `outbound|9080` or `inbound|8080`. */
  name: string;
  /** `outbound`: the app's calls out (15001); `inbound`: calls to the app (15006). */
  direction: 'outbound' | 'inbound';
  /** Destination address matched against the original destination; `0.0.0.0` matches any. */
  address: string;
  /** Destination port matched against the original destination. */
  port: number;
  /** Declared protocol; `auto` means sniff the first bytes. */
  protocol: Protocol;
  /** Name of the RouteTable for HTTP traffic on this listener. */
  routeTable?: string;
  /** TCP/TLS routes, tried in order, when the traffic is not HTTP. */
  tcpRoutes?: TcpRoute[];
  /** Inbound only: the app port the proxy forwards to (from 127.0.0.6). */
  appPort?: number;
  provenance: Provenance;
}

/** An HTTP route table: virtual hosts selected by Host/:authority. */
export interface RouteTable {
  /** Name referenced by listeners (e.g. the port number as a string). */
  name: string;
  /** Virtual hosts, most specific domain wins. */
  virtualHosts: VirtualHost[];
  provenance: Provenance;
}

/** Routes for a set of domains (a service's names, or a VirtualService's hosts). */
export interface VirtualHost {
  /** Unique name, e.g. `reviews.default.svc.cluster.local:9080`. */
  name: string;
  /** Host names this virtual host answers for; `*.` prefix wildcards allowed, with and without `:port`. */
  domains: string[];
  /** Routes in order; the first match wins. */
  routes: Route[];
  provenance: Provenance;
}

/** How a string is compared: exact, prefix, or an RE2 regular expression (full match). */
export interface StringMatch {
  /** Kind of comparison. */
  type: 'exact' | 'prefix' | 'regex';
  /** Value compared with (the RE2 pattern for `regex`). */
  value: string;
}

/** One Istio HTTPMatchRequest; every field set must match (AND). */
export interface RouteMatch {
  /** Name of the match, copied to logs and `explain`. */
  name?: string;
  /** Path (without query) match. */
  uri?: StringMatch;
  /** URI scheme match (`http`/`https`). */
  scheme?: StringMatch;
  /** HTTP method match. */
  method?: StringMatch;
  /** Host/:authority match. */
  authority?: StringMatch;
  /** Header name (lower-case) → match; an empty-valued `prefix` match tests presence. */
  headers?: Record<string, StringMatch>;
  /** Query parameter → match. */
  queryParams?: Record<string, StringMatch>;
  /** Headers that must NOT match. */
  withoutHeaders?: Record<string, StringMatch>;
  /** Destination port the request was sent to. */
  port?: number;
  /** Labels the calling (source) workload must have; translation already filtered on them. */
  sourceLabels?: Record<string, string>;
  /** Namespace the calling workload must be in; translation already filtered on it. */
  sourceNamespace?: string;
  /** Compare `uri` case-insensitively. */
  ignoreUriCase?: boolean;
}

/** Header edits: set replaces, add appends, remove deletes (names lower-case). */
export interface HeaderOps {
  /** Headers to overwrite. */
  set?: Record<string, string>;
  /** Headers to append. */
  add?: Record<string, string>;
  /** Header names to delete. */
  remove?: string[];
}

/** One weighted destination of a route. */
export interface WeightedCluster {
  /** Cluster name (must exist in `clusters`). */
  cluster: string;
  /** Relative weight (≥ 0); weights of a route need not sum to 100. */
  weight: number;
  /** Header edits applied when this destination is picked. */
  headers?: { request?: HeaderOps; response?: HeaderOps };
}

/** What a route does with a request. */
export type RouteAction =
  | { kind: 'forward'; destinations: WeightedCluster[] }
  | { kind: 'redirect'; redirect: Redirect }
  | { kind: 'directResponse'; status: number; body?: string };

/** Istio HTTPRedirect. */
export interface Redirect {
  /** Replacement path. */
  uri?: string;
  /** Replacement authority. */
  authority?: string;
  /** Replacement port. */
  port?: number;
  /** Keep the request's port (`FROM_PROTOCOL_DEFAULT` or `FROM_REQUEST_PORT`). */
  derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';
  /** Replacement scheme. */
  scheme?: 'http' | 'https';
  /** Status code, 301 by default. */
  redirectCode: number;
}

/** Istio HTTPRewrite. */
export interface Rewrite {
  /** Replaces the matched prefix (or the whole path for exact/regex matches). */
  uri?: string;
  /** Replaces the Host/:authority. */
  authority?: string;
  /** RE2 regex rewrite of the whole path. */
  uriRegexRewrite?: { match: string; rewrite: string };
}

/** Retry policy of a route (Envoy semantics). */
export interface RetryPolicy {
  /** Number of retries after the first try (0 disables). */
  attempts: number;
  /** Timeout of each try in ms; 0 means the route timeout only. */
  perTryTimeoutMs: number;
  /** Retry conditions: Envoy tokens (`5xx`, `reset`, `connect-failure`…) and status codes as strings. */
  retryOn: string[];
  /** Prefer hosts in other localities on retry. */
  retryRemoteLocalities: boolean;
  /** Base interval of the fully jittered exponential backoff, ms (25 by default). */
  backoffBaseMs: number;
}

/** Fault injection, applied by the client-side proxy. */
export interface Fault {
  /** Fixed delay before forwarding. */
  delay?: { fixedDelayMs: number; percentage: number };
  /** Local reply instead of forwarding; exactly one of httpStatus/grpcStatus. */
  abort?: { httpStatus?: number; grpcStatus?: string; percentage: number };
}

/** A shadow copy of the request sent to another cluster; its response is dropped. */
export interface Mirror {
  /** Cluster name. */
  cluster: string;
  /** Share of requests mirrored, 0–100. */
  percentage: number;
}

/** Istio CorsPolicy. */
export interface Cors {
  /** Origins allowed. */
  allowOrigins: StringMatch[];
  /** `Access-Control-Allow-Methods` values. */
  allowMethods: string[];
  /** `Access-Control-Allow-Headers` values. */
  allowHeaders: string[];
  /** `Access-Control-Expose-Headers` values. */
  exposeHeaders: string[];
  /** `Access-Control-Max-Age` in seconds. */
  maxAgeSeconds?: number;
  /** `Access-Control-Allow-Credentials`. */
  allowCredentials?: boolean;
}

/** One HTTP route: matches (OR) and what to do. */
export interface Route {
  /** Route name (VirtualService `http[].name`, else `<vs>.<index>`). */
  name: string;
  /** Any one match suffices; an empty list matches everything. */
  match: RouteMatch[];
  /** Forward, redirect or answer directly. */
  action: RouteAction;
  /** Path/authority rewrite before forwarding. */
  rewrite?: Rewrite;
  /** Header edits for every destination of the route. */
  headers?: { request?: HeaderOps; response?: HeaderOps };
  /** Whole-request timeout in ms across all tries; 0 disables. */
  timeoutMs: number;
  /** Retry policy (Istio's default when the VirtualService sets none). */
  retries: RetryPolicy;
  /** Fault injection. */
  fault?: Fault;
  /** Shadow traffic targets. */
  mirrors?: Mirror[];
  /** CORS policy. */
  cors?: Cors;
  provenance: Provenance;
}

/** A TCP or TLS (SNI) route. */
export interface TcpRoute {
  /** SNI host names (TLS routes); absent for TCP. */
  sniHosts?: string[];
  /** Destination ports this route applies to; absent means any. */
  port?: number;
  /** Weighted destinations. */
  destinations: WeightedCluster[];
  provenance: Provenance;
}

/** Load-balancing algorithm of a cluster. */
export interface LoadBalancer {
  /** Algorithm; `RING_HASH`/`MAGLEV` need `hashOn`. */
  policy: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH' | 'RING_HASH' | 'MAGLEV';
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
  mode: 'AUTO' | 'ISTIO_MUTUAL' | 'DISABLE' | 'SIMPLE' | 'MUTUAL';
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

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** Effective PeerAuthentication for this workload (most specific already resolved). */
export interface PeerAuthenticationSettings {
  /** Mode for every port not listed in `ports`. */
  mode: MtlsMode;
  /** Port-level overrides (app ports). */
  ports: Record<string, MtlsMode>;
  provenance: Provenance;
}

/** Istio AuthorizationPolicy Source, with serviceAccounts already turned into principals. */
export interface AuthzSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

/** Istio AuthorizationPolicy Operation. */
export interface AuthzOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

/** Istio AuthorizationPolicy Condition (`when`). */
export interface AuthzCondition {
  /** Attribute, e.g. `source.ip`, `request.headers[x-token]`. */
  key: string;
  values?: string[];
  notValues?: string[];
}

/** One rule: from (any) AND to (any) AND when (all). */
export interface AuthzRule {
  from: AuthzSource[];
  to: AuthzOperation[];
  when: AuthzCondition[];
}

/** One AuthorizationPolicy that selects this workload. */
export interface AuthzPolicy {
  /** `<namespace>/<name>`. */
  name: string;
  /** ALLOW, DENY or AUDIT (CUSTOM is refused at translation). */
  action: 'ALLOW' | 'DENY' | 'AUDIT';
  /** Rules; an empty list matches nothing for ALLOW (allow-nothing) and DENY. */
  rules: AuthzRule[];
  provenance: Provenance;
}

/** Telemetry switches for this proxy. */
export interface Telemetry {
  /** Export Istio-standard metrics on 15090. */
  metrics: boolean;
  /** Write a JSON access log line per request. */
  accessLog: boolean;
  /** Tracing: sampling percent (0–100) and OTLP/HTTP endpoint. */
  tracing: { samplingPercent: number; otlpEndpoint?: string };
}

/** Everything one proxy needs. `version` is the hash of the rest. */
export interface ProxySnapshot {
  /** Content hash; the proxy echoes it in ACK/NACK. */
  version: string;
  /** Whom the snapshot is for. */
  proxy: ProxyIdentity;
  /** Outbound and inbound listeners. */
  listeners: Listener[];
  /** HTTP route tables. */
  routes: RouteTable[];
  /** Upstream clusters. */
  clusters: Cluster[];
  /** Endpoint sets referenced by clusters. */
  endpoints: EndpointSet[];
  /** mTLS and authorization for inbound traffic. */
  security: { peerAuthentication: PeerAuthenticationSettings; authorization: AuthzPolicy[] };
  /** Metrics, access log and tracing settings. */
  telemetry: Telemetry;
}
