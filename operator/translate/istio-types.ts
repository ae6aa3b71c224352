/**
 * The Istio spec types translation reads: aliases of the generated types in
 * crds/generated/types.ts, so the schema source is the only definition (names kept short and
 * stable for translation code).
 */
import type * as gen from '../../crds/generated/types.ts';

export type IstioStringMatch = gen.StringMatch;
export type IstioPortSelector = gen.PortSelector;
export type IstioPercent = gen.Percent;
export type IstioDestination = gen.Destination;
export type IstioHeaderOps = gen.HeaderOperations;
export type IstioHeaders = gen.Headers;
export type IstioRouteDestination = gen.HTTPRouteDestination;
export type IstioHTTPMatchRequest = gen.HTTPMatchRequest;
export type IstioHTTPRoute = gen.HTTPRoute;
/** The fields TCP and TLS route matches share (TLS adds sniHosts). */
export type IstioL4Match = gen.L4MatchAttributes;
export type IstioTCPRoute = gen.TCPRoute;
export type IstioTLSRoute = gen.TLSRoute;
export type VirtualServiceSpec = gen.VirtualServiceSpec;
export type IstioLoadBalancer = gen.LoadBalancerSettings;
export type IstioConnectionPool = gen.ConnectionPoolSettings;
export type IstioOutlierDetection = gen.OutlierDetection;
export type IstioClientTLS = gen.ClientTLSSettings;
export type IstioTrafficPolicyBase = gen.PortTrafficPolicy;
export type IstioTrafficPolicy = gen.TrafficPolicy;
export type DestinationRuleSpec = gen.DestinationRuleSpec;
export type IstioMtlsMode = NonNullable<gen.PeerAuthenticationMutualTLS['mode']>;
export type PeerAuthenticationSpec = gen.PeerAuthenticationSpec;
export type IstioAuthzSource = gen.Source;
export type IstioAuthzOperation = gen.Operation;
export type AuthorizationPolicySpec = gen.AuthorizationPolicySpec;
export type RequestAuthenticationSpec = gen.RequestAuthenticationSpec;
export type IstioJwtRule = gen.JWTRule;
