/** ProxySnapshot, HTTP and TCP routing: route tables, matches, route actions and policies. */
import type { Provenance } from './base.ts';

export const MATCH_TYPES = ['exact', 'prefix', 'regex'] as const;

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
  type: (typeof MATCH_TYPES)[number];
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
  /** Replaces the matched uri prefix (the whole path for exact/regex matches); exclusive with `uri`. */
  prefixRewrite?: string;
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
