/**
 * Virtual host selection by Host/:authority, in Envoy's order: exact domain, then the
 * longest `*.suffix` wildcard, then the longest `prefix.*` wildcard, then `*`. The host
 * is compared lower-case, first as sent and then without its `:port`.
 */
export interface DomainIndex<T> {
  find(authority: string): T | undefined;
}

export function buildDomainIndex<T>(entries: { domains: string[]; value: T }[]): DomainIndex<T> {
  const exact = new Map<string, T>();
  const suffixes: { suffix: string; value: T }[] = [];
  const prefixes: { prefix: string; value: T }[] = [];
  let any: T | undefined;
  for (const e of entries) {
    for (const raw of e.domains) {
      const d = raw.toLowerCase();
      if (d === '*') any ??= e.value;
      else if (d.startsWith('*')) suffixes.push({ suffix: d.slice(1), value: e.value });
      else if (d.endsWith('*')) prefixes.push({ prefix: d.slice(0, -1), value: e.value });
      else if (!exact.has(d)) exact.set(d, e.value);
    }
  }
  // Longest first so the most specific wildcard wins; stable sort keeps declaration order on ties.
  suffixes.sort((a, b) => b.suffix.length - a.suffix.length);
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  const lookup = (host: string): T | undefined => {
    const hit = exact.get(host);
    if (hit !== undefined) return hit;
    for (const s of suffixes) if (host.length > s.suffix.length && host.endsWith(s.suffix)) return s.value;
    for (const p of prefixes) if (host.length > p.prefix.length && host.startsWith(p.prefix)) return p.value;
    return undefined;
  };
  return {
    find(authority) {
      const host = authority.toLowerCase();
      const hit = lookup(host);
      if (hit !== undefined) return hit;
      const colon = host.lastIndexOf(':');
      // Not for bare IPv6 literals: only strip a port after `]` or from a host without other colons.
      if (colon > 0 && (host.indexOf(':') === colon || host[colon - 1] === ']')) {
        const bare = lookup(host.slice(0, colon));
        if (bare !== undefined) return bare;
      }
      return any;
    },
  };
}
