/** Istio's rules for what an HTTP route does besides routing: retries, fault, rewrite, redirect, CORS. */
import { at, idx, list, objAt, numAt, strAt } from '../messages.ts';
import type { Collector, Obj } from '../messages.ts';
import { checkHeaderName, checkPercentValue, checkPort, checkRegex, parseDuration } from './values.ts';
import { checkStringMatch } from './http-match.ts';

/** Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies (Istio's supportedRetryOnPolicies). */
export const RETRY_ON_POLICIES = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*']);

/** gRPC status names Istio accepts for abort.grpcStatus. */
const GRPC_STATUS = new Set(['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED']);

export function checkRetries(r: Obj, path: string, c: Collector): void {
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

export function checkFault(f: Obj, path: string, c: Collector): void {
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

export function checkRewrite(r: Obj, path: string, c: Collector): void {
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

export function checkRedirect(r: Obj, path: string, c: Collector): void {
  const set = (k: string): boolean => r[k] !== undefined && r[k] !== '';
  if (!set('uri') && !set('authority') && !set('scheme') && r.port === undefined && r.derivePort === undefined) c.error('MESHLET_CRD_REDIRECT', path, 'redirect must set uri, authority, scheme or port');
  const code = numAt(r.redirectCode);
  if (code !== undefined && code !== 0 && (code < 300 || code > 399)) c.error('MESHLET_CRD_REDIRECT', at(path, 'redirectCode'), `${code} is not a 3xx redirect code`);
  const scheme = strAt(r.scheme);
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') c.error('MESHLET_CRD_REDIRECT', at(path, 'scheme'), `scheme "${scheme}" is not http or https`);
  if (typeof r.port === 'number' && r.port > 0) checkPort(r.port, at(path, 'port'), c);
}

export function checkCors(p: Obj, path: string, c: Collector): void {
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
