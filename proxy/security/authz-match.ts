/**
 * Matchers for AuthorizationPolicy values, with Istio's wildcard forms: `*` alone (any
 * non-empty value), `prefix*`, `*suffix`, else exact. IP values are addresses or CIDRs.
 */
import { BlockList, isIP } from 'node:net';

export type StrMatcher = (v: string | undefined) => boolean;

export function wildcard(pattern: string, caseInsensitive = false): StrMatcher {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const norm = (v: string): string => (caseInsensitive ? v.toLowerCase() : v);
  if (p === '*') return (v) => v !== undefined && v !== '';
  if (p.endsWith('*')) {
    const pre = p.slice(0, -1);
    return (v) => v !== undefined && norm(v).startsWith(pre);
  }
  if (p.startsWith('*')) {
    const suf = p.slice(1);
    return (v) => v !== undefined && norm(v).endsWith(suf);
  }
  return (v) => v !== undefined && norm(v) === p;
}

/** Any of the patterns matches. */
export function anyOf(patterns: readonly string[], caseInsensitive = false): StrMatcher {
  const ms = patterns.map((p) => wildcard(p, caseInsensitive));
  return (v) => ms.some((m) => m(v));
}

/** Strips IPv4-mapped IPv6 (`::ffff:1.2.3.4`) so node's socket addresses match v4 CIDRs. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** Matcher for a list of addresses/CIDRs; throws on a malformed entry (translation validates). */
export function ipSet(blocks: readonly string[]): StrMatcher {
  const list = new BlockList();
  for (const b of blocks) {
    const [addr = '', len] = b.split('/');
    const family = isIP(addr);
    if (family === 0) throw new Error(`invalid IP block "${b}"`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (len === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(len), type);
  }
  return (v) => {
    if (v === undefined) return false;
    const ip = normalizeIp(v);
    const fam = isIP(ip);
    return fam !== 0 && list.check(ip, fam === 4 ? 'ipv4' : 'ipv6');
  };
}

/** `cluster.local/ns/foo/sa/bar` → `foo` (the namespace a principal belongs to). */
export function namespaceOfPrincipal(principal: string | undefined): string | undefined {
  return principal === undefined ? undefined : /\/ns\/([^/]+)\/sa\//.exec(principal)?.[1];
}

/** `cluster.local/ns/foo/sa/bar` → `cluster.local` (the trust domain of a principal). */
export function trustDomainOfPrincipal(principal: string | undefined): string | undefined {
  if (principal === undefined) return undefined;
  const i = principal.indexOf('/');
  return i <= 0 ? undefined : principal.slice(0, i);
}
