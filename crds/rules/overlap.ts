/**
 * Warnings (never errors, as in Istio's analyzer) for routes that can never match: a rule
 * after a catch-all rule, and a match identical to an earlier one.
 */
import type { Collector} from '../messages.ts';
import { at, idx, isObj, list } from '../messages.ts';

/** JSON with sorted keys, so equal matches compare equal whatever the key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** A match that accepts every request: empty, or only `uri: {prefix: "/"}`. */
function isCatchAll(m: unknown): boolean {
  if (!isObj(m)) return false;
  const keys = Object.keys(m).filter((k) => k !== 'name' && k !== 'ignoreUriCase');
  if (keys.length === 0) return true;
  if (keys.length !== 1 || keys[0] !== 'uri' || !isObj(m.uri)) return false;
  const uri = m.uri;
  return Object.keys(uri).length === 1 && uri.prefix === '/';
}

export function checkOverlaps(routes: unknown[], path: string, c: Collector): void {
  const seen = new Map<string, string>();
  let catchAll: string | undefined;
  routes.forEach((r, i) => {
    if (!isObj(r)) return;
    const rp = idx(path, i);
    if (catchAll !== undefined) {
      c.warn('MESHLET_CRD_MATCH_UNREACHABLE', rp, `never matches: ${catchAll} matches every request first`);
      return;
    }
    const matches = list(r.match);
    if (matches.length === 0 || matches.some(isCatchAll)) {
      catchAll = rp;
      return;
    }
    matches.forEach((m, j) => {
      if (!isObj(m)) return;
      const { name: _name, ...rest } = m;
      const key = canonical(rest);
      const mp = idx(at(rp, 'match'), j);
      const first = seen.get(key);
      if (first !== undefined) c.warn('MESHLET_CRD_MATCH_DUPLICATE', mp, `same match as ${first}, which wins`);
      else seen.set(key, mp);
    });
  });
}
