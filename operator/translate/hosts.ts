/** Host names and visibility: Istio's short-name resolution, wildcards and exportTo. */
import { DOMAIN_SUFFIX } from '../world/objects.ts';

/** Resolves a host written in an object of namespace `ns` to a fully qualified name. */
export function resolveHost(host: string, ns: string): string {
  if (host === '*' || host.startsWith('*.')) return host;
  const parts = host.split('.');
  if (parts.length === 1) return `${host}.${ns}.${DOMAIN_SUFFIX}`;
  if (parts.length === 2) return `${host}.${DOMAIN_SUFFIX}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${host}.cluster.local`;
  return host;
}

/** Does a (possibly wildcard) config host match a concrete service host? */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** Specificity of a matching host pattern: exact beats any wildcard, longer wildcard beats shorter. */
export function hostSpecificity(pattern: string): number {
  return pattern.startsWith('*') ? pattern.length : Number.MAX_SAFE_INTEGER;
}

/** Istio exportTo: `*` everyone, `.` the object's own namespace, `~` nobody, else namespace names. */
export function exportedTo(exportTo: readonly string[] | undefined, ownNs: string, viewerNs: string): boolean {
  const list = exportTo === undefined || exportTo.length === 0 ? ['*'] : exportTo;
  for (const e of list) {
    if (e === '*') return true;
    if (e === '.' && ownNs === viewerNs) return true;
    if (e === viewerNs) return true;
  }
  return false;
}
