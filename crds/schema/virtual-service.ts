/** networking.istio.io VirtualService: Istio's field names and semantics. */
import { arr, bool, duration, int32, labels, map, obj, str, strings, uint32, withAttrs } from './dsl.ts';
import type { KindDef } from './dsl.ts';
import { destination, headers, percent, stringMatch } from './common.ts';

const dur = (doc: string) => duration(doc, { maxLength: 64 });

const matchRequest = obj('HTTPMatchRequest', 'HttpMatchRequest specifies a set of criteria to be met in order for the rule to be applied to the HTTP request. All conditions inside a single match block have AND semantics.', {
  name: str('The name assigned to a match; concatenated with the parent route name in logs.'),
  uri: stringMatch,
  scheme: stringMatch,
  method: stringMatch,
  authority: stringMatch,
  headers: map('The header keys must be lowercase and use hyphen as the separator.', stringMatch),
  port: uint32('Specifies the ports on the host that is being addressed.', { max: 4294967295 }),
  sourceLabels: labels('One or more labels that constrain the applicability of a rule to source (client) workloads.'),
  gateways: strings('Names of gateways where the rule should be applied.', { unenforced: 'meshlet has no gateways yet: a match naming only gateways never matches sidecar traffic', unenforcedExcept: ['mesh'] }),
  queryParams: map('Query parameters for matching.', stringMatch),
  ignoreUriCase: bool('Flag to specify whether the URI matching should be case-insensitive.'),
  withoutHeaders: map('withoutHeader has the same syntax with the header, but has opposite meaning.', stringMatch),
  sourceNamespace: str('Source namespace constraining the applicability of a rule to workloads in that namespace.'),
  statPrefix: str('The human readable prefix to use when emitting statistics for this route.', { unenforced: 'meshlet metrics use Istio labels only' }),
});

const routeDestination = obj('HTTPRouteDestination', 'Each routing rule is associated with one or more service versions.', {
  destination,
  weight: int32('Weight specifies the relative proportion of traffic to be forwarded to the destination.'),
  headers,
}, { required: ['destination'] });

const redirect = obj('HTTPRedirect', 'HTTPRedirect can be used to send a 301 redirect response to the caller.', {
  uri: str('On a redirect, overwrite the Path portion of the URL with this value.'),
  prefixRewrite: str('On a redirect, replace the matched prefix (or the whole path for exact and regex matches) with this value.'),
  authority: str('On a redirect, overwrite the Authority/Host portion of the URL with this value.'),
  port: uint32('On a redirect, Specifies the port to be used in the redirect response.', { max: 4294967295 }),
  derivePort: str('On a redirect, dynamically set the port.', { enum: ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] }),
  scheme: str('On a redirect, overwrite the scheme portion of the URL with this value (http or https).'),
  redirectCode: uint32('On a redirect, Specifies the HTTP status code to use in the redirect response (3xx).', { max: 4294967295 }),
}, {
  oneOf: [['port', 'derivePort'], ['uri', 'prefixRewrite']],
  cel: [
    { rule: "!has(self.scheme) || self.scheme == 'http' || self.scheme == 'https'", code: 'MESHLET_CRD_REDIRECT', message: 'redirect scheme must be http or https', fieldPath: '.scheme' },
    { rule: '!has(self.redirectCode) || (self.redirectCode >= 300 && self.redirectCode <= 399)', code: 'MESHLET_CRD_REDIRECT', message: 'redirectCode must be 3xx', fieldPath: '.redirectCode' },
  ],
});

const directResponse = obj('HTTPDirectResponse', 'HTTPDirectResponse can be used to send a fixed response to clients.', {
  status: uint32('Specifies the HTTP response status to be returned.', { max: 4294967295 }),
  body: obj('HTTPBody', 'Specifies the content of the response body.', {
    string: str('response body as a string'),
    bytes: str('response body as base64 encoded bytes.'),
  }, { oneOf: [['string', 'bytes']] }),
}, { required: ['status'] });

const rewrite = obj('HTTPRewrite', 'HTTPRewrite can be used to rewrite specific parts of a HTTP request before forwarding the request to the destination.', {
  uri: str('rewrite the path (or the prefix) portion of the URI with this value.'),
  authority: str('rewrite the Authority/Host header with this value.'),
  uriRegexRewrite: obj('RegexRewrite', 'rewrite the path portion of the URI with the specified regex.', {
    match: str('RE2 style regex-based match.'),
    rewrite: str('The string that should replace into matching portions of original URI.'),
  }),
}, {
  cel: [
    { rule: '!(has(self.uri) && has(self.uriRegexRewrite))', code: 'MESHLET_CRD_REWRITE', message: 'only one of uri and uriRegexRewrite may be set' },
    { rule: 'has(self.uri) || has(self.uriRegexRewrite) || has(self.authority)', code: 'MESHLET_CRD_REWRITE', message: 'rewrite must set uri, uriRegexRewrite or authority' },
  ],
});

const retries = obj('HTTPRetry', 'Describes the retry policy to use when a HTTP request fails.', {
  attempts: int32('Number of retries to be allowed for a given request.'),
  perTryTimeout: dur('Timeout per attempt for a given request, including the initial call and any retries.'),
  retryOn: str('Specifies the conditions under which retry takes place: a comma-separated list of policies or HTTP status codes.'),
  retryRemoteLocalities: bool('Flag to specify whether the retries should retry to other localities.', { unenforced: 'meshlet has no locality-aware balancing yet' }),
  retryIgnorePreviousHosts: bool('Flag to specify whether the retries should ignore previously tried hosts during retry.', { unenforced: 'meshlet retries may pick the same host again' }),
  backoff: duration('Specifies the minimum duration between retry attempts.', { maxLength: 64, unenforced: 'meshlet uses a fixed jittered backoff (base 25 ms)' }),
}, {
  cel: [
    { rule: '!has(self.attempts) || self.attempts >= 0', code: 'MESHLET_CRD_RETRY', message: 'attempts must not be negative', fieldPath: '.attempts' },
    { rule: '!((!has(self.attempts) || self.attempts == 0) && (has(self.perTryTimeout) || (has(self.retryOn) && self.retryOn != "") || has(self.retryRemoteLocalities)))', code: 'MESHLET_CRD_RETRY', message: 'retryOn/perTryTimeout/retryRemoteLocalities set while attempts is 0 (retries disabled)' },
  ],
});

const fault = obj('HTTPFaultInjection', 'HTTPFaultInjection can be used to specify one or more faults to inject while forwarding HTTP requests to the destination.', {
  delay: obj('Delay', 'Delay specification is used to inject latency into the request forwarding path.', {
    fixedDelay: dur('Add a fixed delay before forwarding the request.'),
    exponentialDelay: dur('Exponential delay: refused, as Istio does (not supported).'),
    percentage: percent,
    percent: int32('Percentage of requests on which the delay will be injected (deprecated: use percentage).', { deprecated: true }),
  }, { oneOf: [['fixedDelay', 'exponentialDelay']] }),
  abort: obj('Abort', 'Abort specification is used to prematurely abort a request with a pre-specified error code.', {
    httpStatus: int32('HTTP status code to use to abort the Http request.'),
    grpcStatus: str('GRPC status code to use to abort the request.'),
    http2Error: str('HTTP/2 error to use to abort the request: refused, as Istio does (not supported).'),
    percentage: percent,
  }, {
    oneOf: [['httpStatus', 'grpcStatus', 'http2Error']],
    cel: [{ rule: '!has(self.httpStatus) || (self.httpStatus >= 200 && self.httpStatus <= 599)', code: 'MESHLET_CRD_HTTP_STATUS', message: 'httpStatus must be in 200..599', fieldPath: '.httpStatus' }],
  }),
}, { cel: [{ rule: 'has(self.delay) || has(self.abort)', code: 'MESHLET_CRD_FAULT', message: 'fault must set abort and/or delay' }] });

const corsPolicy = obj('CorsPolicy', 'Describes the Cross-Origin Resource Sharing (CORS) policy for a given service.', {
  allowOrigins: arr('String patterns that match allowed origins.', stringMatch),
  allowOrigin: strings('The list of origins that are allowed to perform CORS requests (deprecated: use allowOrigins).', { deprecated: true, unenforced: 'use allowOrigins' }),
  allowMethods: strings('List of HTTP methods allowed to access the resource.'),
  allowHeaders: strings('List of HTTP headers that can be used when requesting the resource.'),
  exposeHeaders: strings('A list of HTTP headers that the browsers are allowed to access.'),
  maxAge: dur('Specifies how long the results of a preflight request can be cached.'),
  allowCredentials: bool('Indicates whether the caller is allowed to send the actual request using credentials.'),
  unmatchedPreflights: str('Indicates whether preflight requests not matching the configured allowed origin shall be forwarded to the upstream.', { enum: ['UNSPECIFIED', 'FORWARD', 'IGNORE'], unenforced: 'unmatched preflights are always forwarded' }),
});

// Istio checks a mirrors[] percentage only against 0..100 (not the 0.0001 floor of other percentages).
const mirrorPercent = withAttrs(percent, { cel: [{ rule: '!has(self.value) || (self.value >= 0.0 && self.value <= 100.0)', code: 'MESHLET_CRD_PERCENTAGE', message: 'mirror percentage must be in [0, 100]', fieldPath: '.value' }] });

const mirrorPolicy = obj('HTTPMirrorPolicy', 'HTTPMirrorPolicy can be used to specify the destinations to mirror HTTP traffic.', {
  destination,
  percentage: mirrorPercent,
}, { required: ['destination'] });

const httpRoute = obj('HTTPRoute', 'Describes match conditions and actions for routing HTTP/1.1, HTTP2, and gRPC traffic.', {
  name: str('The name assigned to the route for debugging purposes.'),
  match: arr('Match conditions to be satisfied for the rule to be activated (OR semantics).', matchRequest, { maxItems: 256 }),
  route: arr('A HTTP rule can either return a direct_response, redirect or forward (default) traffic.', routeDestination, { maxItems: 256 }),
  redirect,
  directResponse,
  delegate: obj('Delegate', 'Delegate is used to specify the particular VirtualService which can be used to define delegate HTTPRoute.', {
    name: str('Name specifies the name of the delegate VirtualService.'),
    namespace: str('Namespace specifies the namespace where the delegate VirtualService resides.'),
  }, { unenforced: 'delegation is only meaningful for gateways, which meshlet does not have yet' }),
  rewrite,
  timeout: dur('Timeout for HTTP requests, default is disabled.'),
  retries,
  fault,
  mirror: withAttrs(destination, { doc: 'Mirror HTTP traffic to another destination in addition to forwarding the requests to the intended destination.' }),
  mirrors: arr('Specifies the destinations to mirror HTTP traffic in addition to the original destination.', mirrorPolicy, { maxItems: 64 }),
  mirrorPercentage: percent,
  mirrorPercent: uint32('Percentage of the traffic to be mirrored (deprecated: use mirrorPercentage).', { deprecated: true, max: 4294967295, unenforced: 'use mirrorPercentage' }),
  mirror_percent: uint32('The legacy spelling of mirrorPercent that Istio\'s CRD still accepts (deprecated: use mirrorPercentage).', { deprecated: true, max: 4294967295, unenforced: 'use mirrorPercentage' }),
  corsPolicy,
  headers,
}, {
  cel: [
    { rule: '!(has(self.redirect) && has(self.route) && size(self.route) > 0)', code: 'MESHLET_CRD_HTTP_CONFLICT', message: 'route and redirect are exclusive' },
    { rule: '!(has(self.redirect) && has(self.fault))', code: 'MESHLET_CRD_HTTP_CONFLICT', message: 'fault and redirect are exclusive' },
    { rule: '!(has(self.redirect) && has(self.rewrite))', code: 'MESHLET_CRD_HTTP_CONFLICT', message: 'rewrite and redirect are exclusive' },
    { rule: '!(has(self.directResponse) && ((has(self.route) && size(self.route) > 0) || has(self.fault) || has(self.rewrite) || has(self.redirect)))', code: 'MESHLET_CRD_HTTP_CONFLICT', message: 'directResponse is exclusive with route, fault, rewrite and redirect' },
    { rule: '!(has(self.mirror) && has(self.mirrors))', code: 'MESHLET_CRD_MIRROR', message: 'mirror and mirrors are exclusive' },
  ],
});

const subnetsUnenforced = 'meshlet matches L4 routes by port, source labels and namespace only';
const l4Match = obj('L4MatchAttributes', 'L4 connection match attributes.', {
  destinationSubnets: strings('IPv4 or IPv6 ip addresses of destination with optional subnet.', { unenforced: subnetsUnenforced }),
  port: uint32('Specifies the port on the host that is being addressed.', { max: 4294967295 }),
  sourceLabels: labels('One or more labels that constrain the applicability of a rule to workloads with the given labels.'),
  gateways: strings('Names of gateways where the rule should be applied.', { unenforced: 'meshlet has no gateways yet', unenforcedExcept: ['mesh'] }),
  sourceNamespace: str('Source namespace constraining the applicability of a rule to workloads in that namespace.'),
  sourceSubnet: str('IPv4 or IPv6 address of the source, with an optional subnet (hidden in Istio\'s docs).', { unenforced: subnetsUnenforced }),
});

const tlsMatch = obj('TLSMatchAttributes', 'TLS connection match attributes.', {
  sniHosts: strings('SNI (server name indicator) to match on.'),
  destinationSubnets: strings('IPv4 or IPv6 ip addresses of destination with optional subnet.', { unenforced: subnetsUnenforced }),
  port: uint32('Specifies the port on the host that is being addressed.', { max: 4294967295 }),
  sourceLabels: labels('One or more labels that constrain the applicability of a rule to workloads with the given labels.'),
  gateways: strings('Names of gateways where the rule should be applied.', { unenforced: 'meshlet has no gateways yet', unenforcedExcept: ['mesh'] }),
  sourceNamespace: str('Source namespace constraining the applicability of a rule to workloads in that namespace.'),
}, { required: ['sniHosts'] });

const l4Destination = obj('RouteDestination', 'L4 routing rule weighted destination.', {
  destination,
  weight: int32('Weight specifies the relative proportion of traffic to be forwarded to the destination.'),
}, { required: ['destination'] });

export const virtualServiceSpec = obj('VirtualServiceSpec', 'Configuration affecting label/content routing, sni routing, etc.', {
  hosts: strings('The destination hosts to which traffic is being sent.'),
  gateways: strings('The names of gateways and sidecars that should apply these routes.', { unenforced: 'meshlet has no gateways yet: only the sidecars ("mesh") apply these routes', unenforcedExcept: ['mesh'] }),
  http: arr('An ordered list of route rules for HTTP traffic.', httpRoute, { maxItems: 4096 }),
  tls: arr('An ordered list of route rule for non-terminated TLS & HTTPS traffic.', obj('TLSRoute', 'Describes match conditions and actions for routing unterminated TLS traffic (TLS/HTTPS).', {
    match: arr('Match conditions to be satisfied for the rule to be activated.', tlsMatch, { maxItems: 256 }),
    route: arr('The destination to which the connection should be forwarded to.', l4Destination, { maxItems: 256 }),
  }, { required: ['match'] }), { maxItems: 4096 }),
  tcp: arr('An ordered list of route rules for opaque TCP traffic.', obj('TCPRoute', 'Describes match conditions and actions for routing TCP traffic.', {
    match: arr('Match conditions to be satisfied for the rule to be activated.', l4Match, { maxItems: 256 }),
    route: arr('The destination to which the connection should be forwarded to.', l4Destination, { maxItems: 256 }),
  }), { maxItems: 4096 }),
  exportTo: strings('A list of namespaces to which this virtual service is exported.'),
}, {
  cel: [{ rule: 'has(self.http) || has(self.tcp) || has(self.tls)', code: 'MESHLET_CRD_VS_NO_ROUTES', message: 'a VirtualService needs at least one of http, tcp or tls' }],
});

export const virtualService: KindDef = {
  group: 'networking.istio.io',
  kind: 'VirtualService',
  plural: 'virtualservices',
  singular: 'virtualservice',
  shortNames: ['vs'],
  categories: ['istio-io', 'networking-istio-io'],
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  storageVersion: 'v1',
  spec: virtualServiceSpec,
  printerColumns: [
    { name: 'Gateways', type: 'string', jsonPath: '.spec.gateways', description: 'The names of gateways and sidecars that should apply these routes' },
    { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', description: 'The destination hosts to which traffic is being sent' },
  ],
};
