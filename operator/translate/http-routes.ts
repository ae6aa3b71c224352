/** Istio HTTPRoute → snapshot Route, for one proxy and one listener port. */
import type { Cors, Fault, Mirror, Route, RouteAction, RouteMatch, RetryPolicy, StringMatch, Provenance } from '../../common/snapshot.ts';
import type { IstioHTTPMatchRequest, IstioHTTPRoute, IstioStringMatch } from './istio-types.ts';
import { labelsMatch } from '../world/workloads.ts';
import { durationMs } from './duration.ts';
import { headerEdits, resolveDestination, weightedClusters } from './destinations.ts';
import { matchBoundToMesh } from './virtual-services.ts';
import type { Ctx } from './context.ts';

/** Istio's default retry policy when a route sets none. */
export function defaultRetries(): RetryPolicy {
  return { attempts: 2, perTryTimeoutMs: 0, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', '503'], retryRemoteLocalities: false, backoffBaseMs: 25 };
}

function retries(r: IstioHTTPRoute['retries']): RetryPolicy {
  if (r === undefined) return defaultRetries();
  const d = defaultRetries();
  // retryOn tokens as Envoy takes them; bare numbers are retriable status codes.
  const retryOn = r.retryOn === undefined ? d.retryOn : r.retryOn.split(',').map((t) => t.trim()).filter((t) => t.length > 0 && t !== 'retriable-status-codes');
  return { attempts: r.attempts ?? d.attempts, perTryTimeoutMs: durationMs(r.perTryTimeout, 0), retryOn, retryRemoteLocalities: r.retryRemoteLocalities ?? false, backoffBaseMs: 25 };
}

function stringMatch(m: IstioStringMatch | undefined): StringMatch | undefined {
  if (m === undefined) return undefined;
  if (m.exact !== undefined) return { type: 'exact', value: m.exact };
  if (m.prefix !== undefined) return { type: 'prefix', value: m.prefix };
  if (m.regex !== undefined) return { type: 'regex', value: m.regex };
  return undefined;
}

function matchMap(m: Record<string, IstioStringMatch> | undefined, lowerKeys: boolean): Record<string, StringMatch> | undefined {
  if (m === undefined) return undefined;
  const out: Record<string, StringMatch> = {};
  // An empty match object tests presence (any value); the contract wants a non-empty prefix, so a regex.
  for (const [k, v] of Object.entries(m)) out[lowerKeys ? k.toLowerCase() : k] = stringMatch(v) ?? { type: 'regex', value: '.*' };
  return out;
}

/** Undefined when this match can never apply to this proxy on this port. */
function convertMatch(ctx: Ctx, m: IstioHTTPMatchRequest, port: number): RouteMatch | undefined {
  if (m.port !== undefined && m.port !== port) return undefined;
  if (m.sourceLabels !== undefined && !labelsMatch(m.sourceLabels, ctx.proxy.labels)) return undefined;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== ctx.proxy.namespace) return undefined;
  if (!matchBoundToMesh(m.gateways)) return undefined;
  const out: RouteMatch = {};
  if (m.name !== undefined) out.name = m.name;
  for (const key of ['uri', 'scheme', 'method', 'authority'] as const) {
    const sm = stringMatch(m[key]);
    if (sm !== undefined) out[key] = sm;
  }
  const headers = matchMap(m.headers, true);
  if (headers !== undefined) out.headers = headers;
  const query = matchMap(m.queryParams, false);
  if (query !== undefined) out.queryParams = query;
  const without = matchMap(m.withoutHeaders, true);
  if (without !== undefined) out.withoutHeaders = without;
  if (m.port !== undefined) out.port = m.port;
  if (m.sourceLabels !== undefined) out.sourceLabels = m.sourceLabels;
  if (m.sourceNamespace !== undefined) out.sourceNamespace = m.sourceNamespace;
  if (m.ignoreUriCase === true) out.ignoreUriCase = true;
  return out;
}

function fault(f: IstioHTTPRoute['fault']): Fault | undefined {
  if (f === undefined) return undefined;
  const out: Fault = {};
  if (f.delay !== undefined) out.delay = { fixedDelayMs: durationMs(f.delay.fixedDelay, 0), percentage: f.delay.percentage?.value ?? f.delay.percent ?? 100 };
  if (f.abort !== undefined) {
    const a: NonNullable<Fault['abort']> = { percentage: f.abort.percentage?.value ?? 100 };
    if (f.abort.httpStatus !== undefined) a.httpStatus = f.abort.httpStatus;
    if (f.abort.grpcStatus !== undefined) a.grpcStatus = f.abort.grpcStatus;
    out.abort = a;
  }
  return out;
}

function cors(c: IstioHTTPRoute['corsPolicy']): Cors | undefined {
  if (c === undefined) return undefined;
  const out: Cors = {
    allowOrigins: (c.allowOrigins ?? []).map(stringMatch).filter((m): m is StringMatch => m !== undefined),
    allowMethods: c.allowMethods ?? [],
    allowHeaders: c.allowHeaders ?? [],
    exposeHeaders: c.exposeHeaders ?? [],
  };
  if (c.maxAge !== undefined) out.maxAgeSeconds = Math.floor(durationMs(c.maxAge, 0) / 1000);
  if (c.allowCredentials !== undefined) out.allowCredentials = c.allowCredentials;
  return out;
}

function action(ctx: Ctx, r: IstioHTTPRoute, ns: string, port: number): RouteAction {
  if (r.redirect !== undefined) {
    const rd = r.redirect;
    const redirect: Extract<RouteAction, { kind: 'redirect' }>['redirect'] = { redirectCode: rd.redirectCode ?? 301 };
    if (rd.uri !== undefined) redirect.uri = rd.uri;
    else if (rd.prefixRewrite !== undefined) redirect.prefixRewrite = rd.prefixRewrite;
    if (rd.authority !== undefined) redirect.authority = rd.authority;
    if (rd.port !== undefined) redirect.port = rd.port;
    if (rd.derivePort !== undefined) redirect.derivePort = rd.derivePort;
    if (rd.scheme === 'http' || rd.scheme === 'https') redirect.scheme = rd.scheme;
    return { kind: 'redirect', redirect };
  }
  if (r.directResponse !== undefined) {
    const body = r.directResponse.body?.string ?? (r.directResponse.body?.bytes !== undefined ? Buffer.from(r.directResponse.body.bytes, 'base64').toString('utf8') : undefined);
    return body === undefined ? { kind: 'directResponse', status: r.directResponse.status } : { kind: 'directResponse', status: r.directResponse.status, body };
  }
  const { destinations, error } = weightedClusters(ctx, r.route ?? [], ns, port);
  if (destinations.length === 0) {
    // Istio answers 503 (no cluster) here; say why in the body, with the catalog code.
    const why = error === undefined ? 'route has no destination' : `${error.detail} [${error.code}]`;
    return { kind: 'directResponse', status: 503, body: `no healthy upstream: ${why}` };
  }
  return { kind: 'forward', destinations };
}

function mirrors(ctx: Ctx, r: IstioHTTPRoute, ns: string, port: number): Mirror[] | undefined {
  const list = [...(r.mirror !== undefined ? [{ destination: r.mirror, percentage: r.mirrorPercentage }] : []), ...(r.mirrors ?? [])];
  if (list.length === 0) return undefined;
  const out: Mirror[] = [];
  for (const m of list) {
    const res = resolveDestination(ctx, m.destination, ns, port);
    if (res.ok) out.push({ cluster: res.cluster, percentage: m.percentage?.value ?? 100 });
  }
  return out.length > 0 ? out : undefined;
}

/** Converts one HTTP route; undefined when none of its matches can apply to this proxy/port. */
export function convertHttpRoute(ctx: Ctx, r: IstioHTTPRoute, index: number, prov: Provenance, port: number): Route | undefined {
  let match: RouteMatch[] = [];
  if (r.match !== undefined && r.match.length > 0) {
    const converted = r.match.map((m) => convertMatch(ctx, m, port));
    if (converted.every((m) => m === undefined)) return undefined;
    // A match with no conditions matches everything, so the route needs no match list.
    match = converted.some((m) => m !== undefined && Object.keys(m).length === 0) ? [] : converted.filter((m): m is RouteMatch => m !== undefined);
  }
  const route: Route = { name: r.name ?? `${prov.name}.${index}`, match, action: action(ctx, r, prov.namespace, port), timeoutMs: durationMs(r.timeout, 0), retries: retries(r.retries), provenance: prov };
  if (r.rewrite !== undefined) {
    const { uri, authority, uriRegexRewrite: rx } = r.rewrite;
    route.rewrite = { ...(uri === undefined ? {} : { uri }), ...(authority === undefined ? {} : { authority }) };
    // Validation guarantees both halves of a regex rewrite.
    if (rx !== undefined) route.rewrite.uriRegexRewrite = { match: rx.match ?? '', rewrite: rx.rewrite ?? '' };
  }
  const h = headerEdits(r.headers);
  if (h !== undefined) route.headers = h;
  const f = fault(r.fault);
  if (f !== undefined) route.fault = f;
  const m = mirrors(ctx, r, prov.namespace, port);
  if (m !== undefined) route.mirrors = m;
  const c = cors(r.corsPolicy);
  if (c !== undefined) route.cors = c;
  return route;
}
