/**
 * The Istio spec fields translation reads, with Istio's names. A local, minimal view: the
 * generated types in crds/generated/ are the full schema; translation only relies on these.
 */
export interface IstioStringMatch { exact?: string; prefix?: string; regex?: string }
export interface IstioPortSelector { number?: number }
export interface IstioPercent { value?: number }

export interface IstioDestination { host: string; subset?: string; port?: IstioPortSelector }
export interface IstioHeaderOps { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] }
export interface IstioHeaders { request?: IstioHeaderOps; response?: IstioHeaderOps }
export interface IstioRouteDestination { destination: IstioDestination; weight?: number; headers?: IstioHeaders }

export interface IstioHTTPMatchRequest {
  name?: string;
  uri?: IstioStringMatch;
  scheme?: IstioStringMatch;
  method?: IstioStringMatch;
  authority?: IstioStringMatch;
  headers?: Record<string, IstioStringMatch>;
  queryParams?: Record<string, IstioStringMatch>;
  withoutHeaders?: Record<string, IstioStringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
  ignoreUriCase?: boolean;
}

export interface IstioHTTPRoute {
  name?: string;
  match?: IstioHTTPMatchRequest[];
  route?: IstioRouteDestination[];
  redirect?: { uri?: string; authority?: string; port?: number; derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT'; scheme?: string; redirectCode?: number };
  directResponse?: { status: number; body?: { string?: string; bytes?: string } };
  rewrite?: { uri?: string; authority?: string; uriRegexRewrite?: { match: string; rewrite: string } };
  timeout?: string;
  retries?: { attempts?: number; perTryTimeout?: string; retryOn?: string; retryRemoteLocalities?: boolean };
  fault?: {
    delay?: { fixedDelay?: string; percentage?: IstioPercent; percent?: number };
    abort?: { httpStatus?: number; grpcStatus?: string; percentage?: IstioPercent };
  };
  mirror?: IstioDestination;
  mirrorPercentage?: IstioPercent;
  mirrors?: { destination: IstioDestination; percentage?: IstioPercent }[];
  corsPolicy?: {
    allowOrigins?: IstioStringMatch[];
    allowMethods?: string[];
    allowHeaders?: string[];
    exposeHeaders?: string[];
    maxAge?: string;
    allowCredentials?: boolean;
  };
  headers?: IstioHeaders;
}

export interface IstioL4Match { port?: number; sourceLabels?: Record<string, string>; sourceNamespace?: string; gateways?: string[]; sniHosts?: string[] }
export interface IstioTCPRoute { match?: IstioL4Match[]; route?: IstioRouteDestination[] }
export interface IstioTLSRoute { match: IstioL4Match[]; route?: IstioRouteDestination[] }

export interface VirtualServiceSpec {
  hosts?: string[];
  gateways?: string[];
  http?: IstioHTTPRoute[];
  tcp?: IstioTCPRoute[];
  tls?: IstioTLSRoute[];
  exportTo?: string[];
}

export interface IstioLoadBalancer {
  simple?: 'UNSPECIFIED' | 'LEAST_CONN' | 'RANDOM' | 'PASSTHROUGH' | 'ROUND_ROBIN' | 'LEAST_REQUEST';
  consistentHash?: {
    httpHeaderName?: string;
    httpCookie?: { name: string; path?: string; ttl?: string };
    useSourceIp?: boolean;
    httpQueryParameterName?: string;
    ringHash?: { minimumRingSize?: number };
    maglev?: { tableSize?: number };
    minimumRingSize?: number;
  };
  warmupDurationSecs?: string;
}

export interface IstioConnectionPool {
  tcp?: { maxConnections?: number; connectTimeout?: string; tcpKeepalive?: { probes?: number; time?: string; interval?: string }; idleTimeout?: string };
  http?: { http1MaxPendingRequests?: number; http2MaxRequests?: number; maxRequestsPerConnection?: number; maxRetries?: number; idleTimeout?: string; maxConcurrentStreams?: number };
}

export interface IstioOutlierDetection {
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  consecutiveLocalOriginFailures?: number;
  splitExternalLocalOriginErrors?: boolean;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
}

export interface IstioClientTLS { mode?: 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL'; sni?: string }

export interface IstioTrafficPolicyBase {
  loadBalancer?: IstioLoadBalancer;
  connectionPool?: IstioConnectionPool;
  outlierDetection?: IstioOutlierDetection;
  tls?: IstioClientTLS;
}
export interface IstioTrafficPolicy extends IstioTrafficPolicyBase {
  portLevelSettings?: (IstioTrafficPolicyBase & { port?: IstioPortSelector })[];
}

export interface DestinationRuleSpec {
  host?: string;
  trafficPolicy?: IstioTrafficPolicy;
  subsets?: { name: string; labels?: Record<string, string>; trafficPolicy?: IstioTrafficPolicy }[];
  exportTo?: string[];
  workloadSelector?: { matchLabels?: Record<string, string> };
}

export type IstioMtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';
export interface PeerAuthenticationSpec {
  selector?: { matchLabels?: Record<string, string> };
  mtls?: { mode?: IstioMtlsMode };
  portLevelMtls?: Record<string, { mode?: IstioMtlsMode }>;
}

export interface IstioAuthzSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}
export interface IstioAuthzOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}
export interface AuthorizationPolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  rules?: { from?: { source?: IstioAuthzSource }[]; to?: { operation?: IstioAuthzOperation }[]; when?: { key: string; values?: string[]; notValues?: string[] }[] }[];
}
