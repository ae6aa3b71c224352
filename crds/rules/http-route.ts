/** Istio's rules for one VirtualService HTTP route (spec.http[i]): conflicts, destinations, weights, headers. */
import { at, idx, isObj, list, objAt, numAt, strAt } from '../messages.ts';
import type { Collector, Obj } from '../messages.ts';
import { checkHeaderName, checkHeaderValue, checkHost, checkPercentValue, checkPort, isDns1123Label } from './values.ts';
import { checkMatch } from './http-match.ts';
import { checkCors, checkFault, checkRedirect, checkRetries, checkRewrite } from './http-actions.ts';

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
