/**
 * What a security object stands for when no version of it was ever valid (or parsable):
 * the most restrictive reading, never nothing. Istio replaces a DENY policy it cannot
 * translate by a deny-all for the workloads it selects; here any AuthorizationPolicy
 * without a good version becomes that deny-all (its action may be the part that is
 * broken), and a PeerAuthentication becomes STRICT. Pure.
 */
import type { K8sObject } from '../world/objects.ts';

/** Kinds that fail closed. RequestAuthentication is not watched by meshlet yet. */
export const SECURITY_KINDS: ReadonlySet<string> = new Set(['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication']);

/** The selector of a broken object, only when it is exactly `{matchLabels: {string: string}}`. */
function selectorOf(spec: unknown): { matchLabels: Record<string, string> } | undefined {
  const sel = (spec as { selector?: { matchLabels?: unknown } } | undefined)?.selector;
  const ml = sel?.matchLabels;
  if (typeof ml !== 'object' || ml === null || Array.isArray(ml)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ml)) {
    if (typeof v !== 'string') return undefined;
    out[k] = v;
  }
  return Object.keys(out).length > 0 ? { matchLabels: out } : undefined;
}

/**
 * The stand-in served for a security object with no good version, or undefined for other
 * kinds (and for AUDIT/CUSTOM policies, which never allow or deny in meshlet). A selector
 * that cannot be read widens the stand-in to the whole namespace: wider is closed.
 */
export function failClosedStandIn(o: K8sObject): K8sObject | undefined {
  if (!SECURITY_KINDS.has(o.kind)) return undefined;
  const spec = typeof o.spec === 'object' && o.spec !== null && !Array.isArray(o.spec) ? (o.spec as Record<string, unknown>) : undefined;
  const selector = selectorOf(spec);
  const meta: K8sObject['metadata'] = { name: o.metadata.name };
  if (o.metadata.namespace !== undefined) meta.namespace = o.metadata.namespace;
  if (o.metadata.creationTimestamp !== undefined) meta.creationTimestamp = o.metadata.creationTimestamp;
  const base = { apiVersion: o.apiVersion, kind: o.kind, metadata: meta };
  if (o.kind === 'AuthorizationPolicy') {
    if (spec?.action === 'AUDIT' || spec?.action === 'CUSTOM') return undefined;
    // One rule with no from/to/when matches every request: a DENY of everything selected.
    return { ...base, spec: { ...(selector === undefined ? {} : { selector }), action: 'DENY', rules: [{}] } };
  }
  if (o.kind === 'PeerAuthentication') return { ...base, spec: { ...(selector === undefined ? {} : { selector }), mtls: { mode: 'STRICT' } } };
  // RequestAuthentication: without a valid one meshlet accepts no JWT, which is already closed.
  return undefined;
}
