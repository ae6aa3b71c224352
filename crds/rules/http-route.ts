/** Istio's rules for one VirtualService HTTP route (spec.http[i]). */
import { at, idx, isObj, list, objAt, numAt, strAt } from '../messages.ts';
import type { Obj , Collector} from '../messages.ts';
import { checkHeaderName, checkHeaderValue, checkHost, checkLabels, checkPercentValue, checkPort, checkRegex, isDns1123Label, parseDuration } from './values.ts';

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies (Istio's supportedRetryOnPolicies). */
export const RETRY_ON_POLICIES = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*']);

export function checkStringMatch(m: unknown, path: string, c: Collector): void {
  const o = objAt(m);
  if (o === undefined) return;
  if (o.prefix === '') c.error('MESHLET_CRD_STRING_MATCH', at(path, 'prefix'), 'prefix match must not be empty');
  const re = strAt(o.regex);
  if (re !== undefined) checkRegex(re, at(path, 'regex'), c);
}

/** gRPC status names Istio accepts for abort.grpcStatus. */
const GRPC_STATUS = new Set(['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED']);

/** Header keys of the form @request.auth.claims.x route on JWT claims: gateways only. */
export const isClaimHeader = (k: string): boolean => k.startsWith('@request.auth.claims.') || k.startsWith('@request.auth.claims[');

function checkMatchMap(v: unknown, path: string, c: Collector, headers: boolean): void {
  if (!isObj(v)) return;
  for (const [k, m] of Object.entries(v)) {
    if (headers && isClaimHeader(k)) c.error('MESHLET_CRD_HEADER', idx(path, k), 'JWT claim based routing is only supported on gateways, which meshlet does not have');
    else if (headers) checkHeaderName(k, idx(path, k), c);
    checkStringMatch(m, idx(path, k), c);
  }
}

function checkMatch(m: Obj, path: string, c: Collector): void {
  for (const k of ['uri', 'scheme', 'method', 'authority']) checkStringMatch(m[k], at(path, k), c);
  checkMatchMap(m.headers, at(path, 'headers'), c, true);
  checkMatchMap(m.withoutHeaders, at(path, 'withoutHeaders'), c, true);
  checkMatchMap(m.queryParams, at(path, 'queryParams'), c, false);
  if (m.port !== undefined && m.port !== 0) checkPort(m.port, at(path, 'port'), c);
  checkLabels(m.sourceLabels, at(path, 'sourceLabels'), c);
  const ns = strAt(m.sourceNamespace);
  if (ns !== undefined && ns !== '' && !isDns1123Label(ns)) c.error('MESHLET_CRD_NAMESPACE', at(path, 'sourceNamespace'), `"${ns}" is not a namespace name`);
}

/** A routing destination: host, subset, port. */
export function checkDestination(d: unknown, path: string, c: Collector): void {
  const o = objAt(d);
  if (o === undefined) return;
  const host = strAt(o.host);
  if (host === '*') c.error('MESHLET_CRD_HOST', at(path, 'host'), 'the destination host cannot be "*"');
  else if (host !== undefined) checkHost(host, at(path, 'host'), c);
  const subset = strAt(o.subset);
  if (subset !== undefined && !isDns1123Label(subset)) c.error('MESHLET_CRD_DR_SUBSET_NAME', at(path, 'subset'), subset === '' ? 'subset name cannot be empty' : `"${subset}" is not a valid subset name`);
  const port = objAt(o.port);
  if (port !== undefined) checkPort(port.number, at(at(path, 'port'), 'number'), c);
}

/** Weights ≥ 0, not all 0 when there is more than one destination. */
export function checkWeights(routes: unknown[], path: string, c: Collector): void {
  let total = 0;
  routes.forEach((r, i) => {
    const w = numAt(objAt(r)?.weight) ?? 0;
    if (w < 0) c.error('MESHLET_CRD_WEIGHT', at(idx(path, i), 'weight'), `weight ${w} is negative`);
    else total += w;
  });
  if (routes.length > 1 && total === 0) c.error('MESHLET_CRD_WEIGHT', path, 'all destination weights are 0: no traffic could be routed');
}

function checkHeaderOps(h: unknown, path: string, c: Collector): void {
  const o = objAt(h);
  if (o === undefined) return;
  for (const side of ['request', 'response'] as const) {
    const ops = objAt(o[side]);
    if (ops === undefined) continue;
    const p = at(path, side);
    for (const op of ['set', 'add'] as const) {
      const m = objAt(ops[op]);
      for (const [name, value] of Object.entries(m ?? {})) {
        const hp = idx(at(p, op), name);
        const lower = name.toLowerCase();
        if (name.startsWith(':') && !(side === 'request' && lower === ':authority')) c.error('MESHLET_CRD_HEADER', hp, `header "${name}" cannot have a ":" prefix`);
        else if (side === 'response' && lower === 'host') c.error('MESHLET_CRD_HEADER', hp, 'cannot set the Host header on a response');
        else checkHeaderName(name, hp, c, false);
        if (typeof value === 'string') checkHeaderValue(value, hp, c);
      }
    }
    list(ops.remove).forEach((name, i) => {
      if (typeof name !== 'string') return;
      const hp = idx(at(p, 'remove'), i);
      if (name.toLowerCase() === 'host' || name.startsWith(':')) c.error('MESHLET_CRD_HEADER', hp, `header "${name}" cannot be removed`);
      else checkHeaderName(name, hp, c, false);
    });
  }
}

function checkRetries(r: Obj, path: string, c: Collector): void {
  const attempts = numAt(r.attempts);
  if (attempts !== undefined && attempts < 0) c.error('MESHLET_CRD_RETRY', at(path, 'attempts'), `attempts ${attempts} is negative`);
  const retryOn = strAt(r.retryOn);
  if ((attempts ?? 0) === 0 && (r.perTryTimeout !== undefined || (retryOn !== undefined && retryOn !== '') || r.retryRemoteLocalities !== undefined)) {
    c.error('MESHLET_CRD_RETRY', path, 'retryOn/perTryTimeout/retryRemoteLocalities set while attempts is 0 (retries disabled)');
  }
  if (retryOn === undefined || retryOn === '') return;
  for (const raw of retryOn.split(',')) {
    const token = raw.trim();
    if (RETRY_ON_POLICIES.has(token)) continue;
    if (/^\d{3}$/.test(token) && Number(token) >= 100 && Number(token) <= 599) continue;
    c.error('MESHLET_CRD_RETRY', at(path, 'retryOn'), `"${token}" is not a retry policy or an HTTP status code`);
  }
}

function checkFault(f: Obj, path: string, c: Collector): void {
  const delay = objAt(f.delay);
  const abort = objAt(f.abort);
  if (delay === undefined && abort === undefined) return c.error('MESHLET_CRD_FAULT', path, 'fault needs abort and/or delay');
  if (delay !== undefined) {
    const dp = at(path, 'delay');
    if (delay.exponentialDelay !== undefined) c.error('MESHLET_CRD_FAULT', at(dp, 'exponentialDelay'), 'exponentialDelay is not supported (by Istio either); use fixedDelay');
    else if (delay.fixedDelay === undefined) c.warn('MESHLET_CRD_FAULT', dp, 'delay without fixedDelay injects nothing');
    checkPercentValue(objAt(delay.percentage)?.value, at(at(dp, 'percentage'), 'value'), c);
    const pct = numAt(delay.percent);
    if (pct !== undefined && (pct < 0 || pct > 100)) c.error('MESHLET_CRD_PERCENTAGE', at(dp, 'percent'), `percent ${pct} is not in 0..100`);
  }
  if (abort !== undefined) {
    const ap = at(path, 'abort');
    checkPercentValue(objAt(abort.percentage)?.value, at(at(ap, 'percentage'), 'value'), c);
    const status = numAt(abort.httpStatus);
    if (status !== undefined && (status < 200 || status > 599)) c.error('MESHLET_CRD_HTTP_STATUS', at(ap, 'httpStatus'), `${status} is not in 200..599`);
    const grpc = strAt(abort.grpcStatus);
    if (grpc !== undefined && !GRPC_STATUS.has(grpc)) c.error('MESHLET_CRD_FAULT', at(ap, 'grpcStatus'), `gRPC status "${grpc}" is not supported; use a name such as NOT_FOUND or UNAVAILABLE`);
    if (abort.http2Error !== undefined) c.error('MESHLET_CRD_FAULT', at(ap, 'http2Error'), 'HTTP/2 abort fault injection is not supported (by Istio either); use httpStatus');
    if (abort.httpStatus === undefined && grpc === undefined && abort.http2Error === undefined) c.warn('MESHLET_CRD_FAULT', ap, 'abort configured, but no httpStatus or grpcStatus: nothing is injected');
  }
}

function checkRewrite(r: Obj, path: string, c: Collector): void {
  const hasUri = r.uri !== undefined;
  const rr = objAt(r.uriRegexRewrite);
  if (hasUri && rr !== undefined) c.error('MESHLET_CRD_REWRITE', path, 'only one of uri and uriRegexRewrite may be set');
  if (!hasUri && rr === undefined && r.authority === undefined) c.error('MESHLET_CRD_REWRITE', path, 'rewrite must set uri, uriRegexRewrite or authority');
  if (rr !== undefined) {
    const rp = at(path, 'uriRegexRewrite');
    const m = strAt(rr.match);
    if ((m ?? '') === '' || (strAt(rr.rewrite) ?? '') === '') c.error('MESHLET_CRD_REWRITE', rp, 'uriRegexRewrite needs both match and rewrite');
    if (m !== undefined && m !== '') checkRegex(m, at(rp, 'match'), c);
  }
}

function checkRedirect(r: Obj, path: string, c: Collector): void {
  const set = (k: string): boolean => r[k] !== undefined && r[k] !== '';
  if (!set('uri') && !set('authority') && !set('scheme') && r.port === undefined && r.derivePort === undefined) c.error('MESHLET_CRD_REDIRECT', path, 'redirect must set uri, authority, scheme or port');
  const code = numAt(r.redirectCode);
  if (code !== undefined && code !== 0 && (code < 300 || code > 399)) c.error('MESHLET_CRD_REDIRECT', at(path, 'redirectCode'), `${code} is not a 3xx redirect code`);
  const scheme = strAt(r.scheme);
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') c.error('MESHLET_CRD_REDIRECT', at(path, 'scheme'), `scheme "${scheme}" is not http or https`);
  if (typeof r.port === 'number' && r.port > 0) checkPort(r.port, at(path, 'port'), c);
}

function checkCors(p: Obj, path: string, c: Collector): void {
  list(p.allowOrigins).forEach((m, i) => {
    const o = objAt(m);
    const mp = idx(at(path, 'allowOrigins'), i);
    if (o !== undefined && (strAt(o.exact) ?? strAt(o.prefix) ?? strAt(o.regex) ?? '') === '') c.error('MESHLET_CRD_STRING_MATCH', mp, 'an allowOrigins match must not be empty');
    else checkStringMatch(m, mp, c);
  });
  const maxAge = strAt(p.maxAge);
  const ns = maxAge === undefined ? undefined : parseDuration(maxAge);
  if (ns !== undefined && ns % 1e9 !== 0) c.error('MESHLET_CRD_DURATION', at(path, 'maxAge'), 'maxAge is accurate only to whole seconds');
  list(p.allowMethods).forEach((m, i) => {
    if (typeof m === 'string' && !CORS_METHODS.has(m)) c.error('MESHLET_CRD_HEADER', idx(at(path, 'allowMethods'), i), `"${m}" is not an HTTP method`);
  });
  for (const k of ['allowHeaders', 'exposeHeaders']) {
    list(p[k]).forEach((h, i) => {
      if (typeof h === 'string' && h !== '*') checkHeaderName(h, idx(at(path, k), i), c, false);
    });
  }
}

export function checkHttpRoute(h: Obj, path: string, c: Collector): void {
  const routes = list(h.route);
  const hasRoute = routes.length > 0;
  const has = (k: string): boolean => h[k] !== undefined && h[k] !== null;
  if (has('redirect')) {
    if (hasRoute) c.error('MESHLET_CRD_HTTP_CONFLICT', path, 'route and redirect are exclusive');
    if (has('fault')) c.error('MESHLET_CRD_HTTP_CONFLICT', path, 'fault and redirect are exclusive');
    if (has('rewrite')) c.error('MESHLET_CRD_HTTP_CONFLICT', path, 'rewrite and redirect are exclusive');
  }
  if (has('directResponse')) {
    const others = [hasRoute ? 'route' : '', has('fault') ? 'fault' : '', has('rewrite') ? 'rewrite' : '', has('redirect') ? 'redirect' : ''].filter((x) => x !== '');
    if (others.length > 0) c.error('MESHLET_CRD_HTTP_CONFLICT', path, `directResponse cannot be combined with ${others.join(', ')}`);
  }
  if (!hasRoute && !has('redirect') && !has('directResponse') && !has('delegate')) c.error('MESHLET_CRD_HTTP_NO_ACTION', path, 'needs a route, redirect, directResponse or delegate');
  if (has('mirror') && has('mirrors')) c.error('MESHLET_CRD_MIRROR', path, 'mirror and mirrors are exclusive');

  list(h.match).forEach((m, i) => {
    if (isObj(m)) checkMatch(m, idx(at(path, 'match'), i), c);
  });
  routes.forEach((r, i) => {
    const rp = idx(at(path, 'route'), i);
    checkDestination(objAt(r)?.destination, at(rp, 'destination'), c);
    checkHeaderOps(objAt(r)?.headers, at(rp, 'headers'), c);
  });
  checkWeights(routes, at(path, 'route'), c);
  checkHeaderOps(h.headers, at(path, 'headers'), c);
  const redirect = objAt(h.redirect);
  if (redirect !== undefined) checkRedirect(redirect, at(path, 'redirect'), c);
  const dr = objAt(h.directResponse);
  const status = numAt(dr?.status);
  if (status !== undefined && (status < 200 || status > 599)) c.error('MESHLET_CRD_HTTP_STATUS', at(at(path, 'directResponse'), 'status'), `${status} is not in 200..599`);
  const body = objAt(dr?.body);
  const size = Buffer.byteLength(strAt(body?.string) ?? '') + Math.floor(((strAt(body?.bytes) ?? '').length * 3) / 4);
  const bp = at(at(path, 'directResponse'), 'body');
  if (size > 1024 * 1024) c.error('MESHLET_CRD_DIRECT_RESPONSE', bp, `body is ${size} bytes, at most 1 MB allowed`);
  else if (size > 100 * 1024) c.warn('MESHLET_CRD_DIRECT_RESPONSE', bp, `body is ${size} bytes: large direct responses slow config distribution`);
  const rewrite = objAt(h.rewrite);
  if (rewrite !== undefined) checkRewrite(rewrite, at(path, 'rewrite'), c);
  const retries = objAt(h.retries);
  if (retries !== undefined) checkRetries(retries, at(path, 'retries'), c);
  const fault = objAt(h.fault);
  if (fault !== undefined) checkFault(fault, at(path, 'fault'), c);
  if (has('mirror')) checkDestination(h.mirror, at(path, 'mirror'), c);
  checkPercentValue(objAt(h.mirrorPercentage)?.value, at(at(path, 'mirrorPercentage'), 'value'), c);
  const mp = numAt(h.mirrorPercent);
  if (mp !== undefined && mp > 100) c.error('MESHLET_CRD_PERCENTAGE', at(path, 'mirrorPercent'), `mirrorPercent ${mp} is not in 0..100`);
  list(h.mirrors).forEach((m, i) => {
    const mpath = idx(at(path, 'mirrors'), i);
    checkDestination(objAt(m)?.destination, at(mpath, 'destination'), c);
    const v = numAt(objAt(objAt(m)?.percentage)?.value);
    if (v !== undefined && (v < 0 || v > 100)) c.error('MESHLET_CRD_PERCENTAGE', at(at(mpath, 'percentage'), 'value'), `mirror percentage ${v} is not in [0, 100]`);
  });
  const cors = objAt(h.corsPolicy);
  if (cors !== undefined) checkCors(cors, at(path, 'corsPolicy'), c);
}
