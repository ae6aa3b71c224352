/**
 * Warnings (never errors, as in Istio's validation) for routes that can never match: a rule
 * after a catch-all rule, a match identical to an earlier one (a rule whose matches are all
 * duplicates is unreachable), and a uri prefix match covered by an earlier, shorter prefix
 * with the same other conditions.
 */
import type { Collector } from '../messages.ts';
import { at, idx, isObj, list } from '../messages.ts';
import type { Obj } from '../messages.ts';

/** JSON with sorted keys (minus `skip` at the top level), so equal matches compare equal whatever the key order. */
function canonical(v: unknown, skip?: ReadonlySet<string>): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x)).join(',')}]`;
  if (isObj(v)) {
    const keys = Object.keys(v).filter((k) => skip === undefined || !skip.has(k)).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const NO_NAME = new Set(['name']);
const NO_NAME_URI = new Set(['name', 'uri']);

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
}

/** The uri prefix of a match that has one, else undefined. */
function uriPrefix(m: Obj): string | undefined {
  const uri = m.uri;
  if (!isObj(uri) || typeof uri.prefix !== 'string' || uri.prefix === '' || Object.keys(uri).length !== 1) return undefined;
  return uri.prefix;
}

export function checkOverlaps(routes: unknown[], path: string, c: Collector): void {
  const seen = new Map<string, string>();
  // Prefix matches grouped by everything but uri/name: only equal rests can cover each other.
  const prefixes = new Map<string, PrefixMatch[]>();
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
      const key = canonical(m, NO_NAME);
      const mp = idx(at(rp, 'match'), j);
      const first = seen.get(key);
      if (first !== undefined) {
        duplicates++;
        c.warn('MESHLET_CRD_MATCH_DUPLICATE', mp, `same match as ${first}, which wins`);
        return;
      }
      seen.set(key, mp);
      const prefix = uriPrefix(m);
      if (prefix === undefined) return;
      const rest = canonical(m, NO_NAME_URI);
      const group = prefixes.get(rest) ?? [];
      const cover = group.find((p) => prefix.startsWith(p.prefix));
      if (cover !== undefined) c.warn('MESHLET_CRD_MATCH_SHADOWED', mp, `prefix "${prefix}" is covered by prefix "${cover.prefix}" of ${cover.path}, which wins`);
      group.push({ path: mp, prefix });
      prefixes.set(rest, group);
    });
    if (duplicates > 0 && duplicates === matches.length) c.warn('MESHLET_CRD_MATCH_UNREACHABLE', rp, 'never matches: all its matches are used by earlier rules');
  });
}
