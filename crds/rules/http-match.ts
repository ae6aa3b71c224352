/** Istio's rules for HTTP match conditions (spec.http[i].match[j]) and string matches. */
import { at, idx, isObj, objAt, strAt } from '../messages.ts';
import type { Collector, Obj } from '../messages.ts';
import { checkHeaderName, checkLabels, checkPort, checkRegex, isDns1123Label } from './values.ts';

export function checkStringMatch(m: unknown, path: string, c: Collector): void {
  const o = objAt(m);
  if (o === undefined) return;
  if (o.prefix === '') c.error('MESHLET_CRD_STRING_MATCH', at(path, 'prefix'), 'prefix match must not be empty');
  const re = strAt(o.regex);
  if (re !== undefined) checkRegex(re, at(path, 'regex'), c);
}

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

export function checkMatch(m: Obj, path: string, c: Collector): void {
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
