/**
 * Warnings (never errors, as in Istio's validation) for routes that can never match: a rule
 * after a catch-all rule, a match identical to an earlier one (a rule whose matches are all
 * duplicates is unreachable), and a uri prefix match covered by an earlier, shorter prefix
 * with the same other conditions.
 */
import type { Collector } from '../messages.ts';
import { at, idx, isObj, list } from '../messages.ts';
import type { Obj } from '../messages.ts';

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

interface PrefixMatch {
  path: string;
  prefix: string;
  /** Everything but the uri (and name), canonical: must be equal for one match to cover another. */
  rest: string;
}

function prefixMatch(m: Obj, path: string): PrefixMatch | undefined {
  const uri = m.uri;
  if (!isObj(uri) || typeof uri.prefix !== 'string' || uri.prefix === '' || Object.keys(uri).length !== 1) return undefined;
  const { name: _n, uri: _u, ...rest } = m;
  return { path, prefix: uri.prefix, rest: canonical(rest) };
}

export function checkOverlaps(routes: unknown[], path: string, c: Collector): void {
  const seen = new Map<string, string>();
  const prefixes: PrefixMatch[] = [];
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
    let duplicates = 0;
    matches.forEach((m, j) => {
      if (!isObj(m)) return;
      const { name: _name, ...rest } = m;
      const key = canonical(rest);
      const mp = idx(at(rp, 'match'), j);
      const first = seen.get(key);
      if (first !== undefined) {
        duplicates++;
        c.warn('MESHLET_CRD_MATCH_DUPLICATE', mp, `same match as ${first}, which wins`);
        return;
      }
      seen.set(key, mp);
      const pm = prefixMatch(m, mp);
      if (pm === undefined) return;
      const cover = prefixes.find((p) => pm.prefix.startsWith(p.prefix) && p.rest === pm.rest);
      if (cover !== undefined) c.warn('MESHLET_CRD_MATCH_SHADOWED', mp, `prefix "${pm.prefix}" is covered by prefix "${cover.prefix}" of ${cover.path}, which wins`);
      prefixes.push(pm);
    });
    if (duplicates > 0 && duplicates === matches.length) c.warn('MESHLET_CRD_MATCH_UNREACHABLE', rp, 'never matches: all its matches are used by earlier rules');
  });
}
