/**
 * Inbound security for one workload: the effective PeerAuthentication (workload beats
 * namespace beats mesh/root namespace; UNSET inherits) and the AuthorizationPolicies that
 * select it, with serviceAccounts turned into principals as Istio writes them.
 */
import type { AuthzPolicy, AuthzRule, AuthzSource, AuthzOperation, MtlsMode, PeerAuthenticationSettings, ProxyIdentity } from '../../common/snapshot.ts';
import type { MeshConfig, World } from '../world/types.ts';
import type { AuthorizationPolicySpec, IstioAuthzSource, PeerAuthenticationSpec } from './istio-types.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../common/spiffe.ts';
import { labelsMatch } from '../world/workloads.ts';

type PA = MeshConfig<PeerAuthenticationSpec>;

function selects(sel: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>): boolean {
  return sel?.matchLabels === undefined || labelsMatch(sel.matchLabels, labels);
}

function hasSelector(sel: { matchLabels?: Record<string, string> } | undefined): boolean {
  return sel?.matchLabels !== undefined && Object.keys(sel.matchLabels).length > 0;
}

function mode(m: string | undefined): MtlsMode | undefined {
  return m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE' ? m : undefined;
}

export function peerAuthentication(world: World, proxy: ProxyIdentity): PeerAuthenticationSettings {
  // Oldest first within a level (the World lists are sorted that way).
  const mesh = world.peerAuthentications.find((p) => p.meta.namespace === world.rootNamespace && !hasSelector(p.spec.selector));
  const ns = world.peerAuthentications.find((p) => p.meta.namespace === proxy.namespace && p.meta.namespace !== world.rootNamespace && !hasSelector(p.spec.selector));
  const wl = world.peerAuthentications.find((p) => p.meta.namespace === proxy.namespace && hasSelector(p.spec.selector) && selects(p.spec.selector, proxy.labels));
  let effective: MtlsMode = 'PERMISSIVE';
  let provenance = { kind: 'default', namespace: '', name: 'mesh' };
  for (const p of [mesh, ns, wl] as (PA | undefined)[]) {
    const m = mode(p?.spec.mtls?.mode);
    if (p !== undefined && m !== undefined) {
      effective = m;
      provenance = { kind: 'PeerAuthentication', namespace: p.meta.namespace, name: p.meta.name };
    }
  }
  const ports: Record<string, MtlsMode> = {};
  for (const [port, setting] of Object.entries(wl?.spec.portLevelMtls ?? {})) ports[port] = mode(setting.mode) ?? effective;
  if (wl !== undefined && Object.keys(ports).length > 0) provenance = { kind: 'PeerAuthentication', namespace: wl.meta.namespace, name: wl.meta.name };
  return { mode: effective, ports, provenance };
}

/** `ns/sa` (or a bare `sa`, in the policy's namespace) → `<trustDomain>/ns/<ns>/sa/<sa>`. */
export function saPrincipal(sa: string, policyNs: string, trustDomain: string = DEFAULT_TRUST_DOMAIN): string {
  const i = sa.indexOf('/');
  const [ns, name] = i < 0 ? [policyNs, sa] : [sa.slice(0, i), sa.slice(i + 1)];
  return `${trustDomain}/ns/${ns}/sa/${name}`;
}

function source(s: IstioAuthzSource, policyNs: string, trustDomain: string): AuthzSource {
  const out: AuthzSource = {};
  const principals = [...(s.principals ?? []), ...(s.serviceAccounts ?? []).map((sa) => saPrincipal(sa, policyNs, trustDomain))];
  const notPrincipals = [...(s.notPrincipals ?? []), ...(s.notServiceAccounts ?? []).map((sa) => saPrincipal(sa, policyNs, trustDomain))];
  if (principals.length > 0) out.principals = principals;
  if (notPrincipals.length > 0) out.notPrincipals = notPrincipals;
  for (const k of ['requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'trustDomains', 'notTrustDomains'] as const) {
    const v = s[k];
    if (v !== undefined && v.length > 0) out[k] = [...v];
  }
  return out;
}

function rules(spec: AuthorizationPolicySpec, ns: string, trustDomain: string): AuthzRule[] {
  return (spec.rules ?? []).map((r) => ({
    from: (r.from ?? []).map((f) => source(f.source ?? {}, ns, trustDomain)),
    to: (r.to ?? []).map((t) => ({ ...(t.operation ?? {}) }) as AuthzOperation),
    when: (r.when ?? []).map((w) => {
      const c: AuthzRule['when'][number] = { key: w.key };
      if (w.values !== undefined) c.values = [...w.values];
      if (w.notValues !== undefined) c.notValues = [...w.notValues];
      return c;
    }),
  }));
}

/** Policies of the root namespace apply mesh-wide; others only in their own namespace. CUSTOM is skipped. */
export function authorization(world: World, proxy: ProxyIdentity): AuthzPolicy[] {
  const out: AuthzPolicy[] = [];
  for (const p of world.authorizationPolicies) {
    const ns = p.meta.namespace;
    if (ns !== world.rootNamespace && ns !== proxy.namespace) continue;
    if (!selects(p.spec.selector, proxy.labels)) continue;
    const action = p.spec.action ?? 'ALLOW';
    if (action === 'CUSTOM') continue;
    out.push({ name: `${ns}/${p.meta.name}`, action, rules: rules(p.spec, ns, world.trustDomain ?? DEFAULT_TRUST_DOMAIN), provenance: { kind: 'AuthorizationPolicy', namespace: ns, name: p.meta.name } });
  }
  return out;
}
