/**
 * `meshlet analyze`, pure: cross-object problems in a World (plus the raw Pods and
 * Namespaces, whose annotations the World does not keep). Each finding has a stable code
 * from common/errors/cli.ts and names the object to fix.
 */
import { resolvePeerAuthentication, type PeerAuthenticationObject } from '../../common/security/peer-auth.ts';
import type { K8sObject } from '../../operator/world/objects.ts';
import type { MeshConfig, World, WorldWorkload } from '../../operator/world/types.ts';
import { labelsMatch } from '../../operator/world/workloads.ts';
import { exportedTo, hostMatches, resolveHost } from '../../operator/translate/hosts.ts';
import type { IstioRouteDestination, VirtualServiceSpec } from '../../operator/translate/istio-types.ts';

export type FindingCode =
  | 'MESHLET_ANALYZE_UNKNOWN_SUBSET' | 'MESHLET_ANALYZE_DR_NO_SERVICE' | 'MESHLET_ANALYZE_SELECTS_NOTHING'
  | 'MESHLET_ANALYZE_STRICT_NO_SIDECAR' | 'MESHLET_ANALYZE_VS_CONFLICT' | 'MESHLET_ANALYZE_INJECTION_MISSING';

export interface Finding {
  code: FindingCode;
  level: 'error' | 'warning';
  object: { kind: string; namespace: string; name: string };
  /** Field path in the object, when one field is at fault. */
  path?: string;
  message: string;
}

const ref = (c: MeshConfig<unknown>): Finding['object'] => ({ kind: c.kind, namespace: c.meta.namespace, name: c.meta.name });

/** Applies to sidecars (not only to gateways). */
function meshBound(vs: VirtualServiceSpec): boolean {
  return vs.gateways === undefined || vs.gateways.length === 0 || vs.gateways.includes('mesh');
}

function routeDestinations(vs: VirtualServiceSpec): { d: IstioRouteDestination; path: string }[] {
  const out: { d: IstioRouteDestination; path: string }[] = [];
  for (const [kind, list] of [['http', vs.http], ['tcp', vs.tcp], ['tls', vs.tls]] as const) {
    (list ?? []).forEach((r, i) => (r.route ?? []).forEach((d, j) => out.push({ d, path: `spec.${kind}[${i}].route[${j}].destination` })));
  }
  return out;
}

function unknownSubsets(w: World, out: Finding[]): void {
  for (const vs of w.virtualServices) {
    for (const { d, path } of routeDestinations(vs.spec)) {
      if (d.destination.subset === undefined) continue;
      const host = resolveHost(d.destination.host, vs.meta.namespace);
      const drs = w.destinationRules.filter((dr) => dr.spec.host !== undefined && hostMatches(resolveHost(dr.spec.host, dr.meta.namespace), host) && exportedTo(dr.spec.exportTo, dr.meta.namespace, vs.meta.namespace));
      if (drs.some((dr) => (dr.spec.subsets ?? []).some((s) => s.name === d.destination.subset))) continue;
      const where = drs.length === 0 ? 'no DestinationRule exists for that host' : `DestinationRule ${drs.map((x) => `${x.meta.namespace}/${x.meta.name}`).join(', ')} defines ${drs.flatMap((x) => (x.spec.subsets ?? []).map((s) => s.name)).join(', ') || 'no subsets'}`;
      out.push({ code: 'MESHLET_ANALYZE_UNKNOWN_SUBSET', level: 'error', object: ref(vs), path: `${path}.subset`, message: `subset "${d.destination.subset}" of host ${host}: ${where}` });
    }
  }
}

function drWithoutService(w: World, out: Finding[]): void {
  const hosts = w.services.map((s) => s.hostname);
  for (const dr of w.destinationRules) {
    if (dr.spec.host === undefined) continue;
    const host = resolveHost(dr.spec.host, dr.meta.namespace);
    if (!hosts.some((h) => hostMatches(host, h))) out.push({ code: 'MESHLET_ANALYZE_DR_NO_SERVICE', level: 'warning', object: ref(dr), path: 'spec.host', message: `host ${dr.spec.host} (${host}) matches no Service` });
  }
}

function selectsNone(w: World, c: MeshConfig<unknown>, labels: Record<string, string> | undefined, path: string, out: Finding[]): void {
  if (labels === undefined || Object.keys(labels).length === 0) return;
  // In the root namespace a selector applies mesh-wide.
  const candidates = w.workloads.filter((x) => c.meta.namespace === w.rootNamespace || x.namespace === c.meta.namespace);
  if (candidates.some((x) => labelsMatch(labels, x.labels))) return;
  out.push({ code: 'MESHLET_ANALYZE_SELECTS_NOTHING', level: 'warning', object: ref(c), path, message: `${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')} matches no workload in namespace ${c.meta.namespace}` });
}

function selectorsMatchingNothing(w: World, out: Finding[]): void {
  for (const p of w.peerAuthentications) selectsNone(w, p, p.spec.selector?.matchLabels, 'spec.selector.matchLabels', out);
  for (const p of w.authorizationPolicies) selectsNone(w, p, p.spec.selector?.matchLabels, 'spec.selector.matchLabels', out);
  for (const d of w.destinationRules) selectsNone(w, d, d.spec.workloadSelector?.matchLabels, 'spec.workloadSelector.matchLabels', out);
}

function paObjects(w: World): PeerAuthenticationObject[] {
  return w.peerAuthentications.map((p) => ({ metadata: { name: p.meta.name, namespace: p.meta.namespace, creationTimestamp: p.meta.creationTimestamp }, spec: p.spec as PeerAuthenticationObject['spec'] }));
}

function strictWithoutSidecar(w: World, out: Finding[]): void {
  const pas = paObjects(w);
  const served = new Set<WorldWorkload>();
  for (const eps of Object.values(w.endpoints)) for (const e of eps) if (e.workload !== undefined) served.add(e.workload);
  for (const wl of w.workloads) {
    if (wl.hasSidecar || !served.has(wl)) continue;
    const s = resolvePeerAuthentication(pas, { namespace: wl.namespace, labels: wl.labels }, w.rootNamespace);
    const strictPorts = Object.entries(s.ports).filter(([, m]) => m === 'STRICT').map(([p]) => p);
    if (s.mode !== 'STRICT' && strictPorts.length === 0) continue;
    const pa = w.peerAuthentications.find((p) => p.meta.namespace === s.provenance.namespace && p.meta.name === s.provenance.name);
    const object = pa === undefined ? { kind: s.provenance.kind, namespace: s.provenance.namespace, name: s.provenance.name } : ref(pa);
    out.push({ code: 'MESHLET_ANALYZE_STRICT_NO_SIDECAR', level: 'error', object, path: 'spec.mtls.mode', message: `${s.mode === 'STRICT' ? 'STRICT' : `STRICT on port(s) ${strictPorts.join(',')}`} applies to ${wl.kind} ${wl.namespace}/${wl.name}, which has no sidecar: meshed clients will be refused` });
  }
}

function conflictingVirtualServices(w: World, out: Finding[]): void {
  const first = new Map<string, MeshConfig<VirtualServiceSpec>>();
  for (const vs of w.virtualServices) {
    if (!meshBound(vs.spec)) continue;
    for (const h of vs.spec.hosts ?? []) {
      const host = resolveHost(h, vs.meta.namespace);
      const prior = first.get(host);
      if (prior === undefined) first.set(host, vs);
      else if (prior !== vs) out.push({ code: 'MESHLET_ANALYZE_VS_CONFLICT', level: 'warning', object: ref(vs), path: 'spec.hosts', message: `host ${host} is also routed by VirtualService ${prior.meta.namespace}/${prior.meta.name} (older, wins on overlap)` });
    }
  }
}

const INJECT_LABELS = (l: Record<string, string>): boolean => l['sidecar.inject'] === 'true' || l['istio-injection'] === 'enabled';
const OPTED_OUT = (m: Record<string, string> | undefined): boolean => m?.['sidecar.inject'] === 'false' || m?.['sidecar.istio.io/inject'] === 'false';

function injectionMissing(w: World, raw: readonly K8sObject[], out: Finding[]): void {
  const injected = new Set(raw.filter((o) => o.kind === 'Namespace' && (INJECT_LABELS(o.metadata.labels ?? {}) || o.metadata.annotations?.['sidecar.inject'] === 'true')).map((o) => o.metadata.name));
  for (const o of raw) {
    if (o.kind !== 'Pod' || !injected.has(o.metadata.namespace ?? '')) continue;
    if ((o.status as { phase?: string } | undefined)?.phase !== 'Running') continue;
    if (OPTED_OUT(o.metadata.labels) || OPTED_OUT(o.metadata.annotations)) continue;
    const wl = w.workloads.find((x) => x.kind === 'Pod' && x.namespace === o.metadata.namespace && x.name === o.metadata.name);
    if (wl === undefined || wl.hasSidecar) continue;
    const status = o.metadata.annotations?.['sidecar.meshlet.io/status'];
    out.push({ code: 'MESHLET_ANALYZE_INJECTION_MISSING', level: 'warning', object: { kind: 'Pod', namespace: wl.namespace, name: wl.name }, message: `namespace ${wl.namespace} is labelled for injection but this running pod has no meshlet-proxy${status === undefined ? ' (created before injection was on, or the webhook was not called)' : ` (${status})`}` });
  }
}

export function analyze(world: World, raw: readonly K8sObject[] = []): Finding[] {
  const out: Finding[] = [];
  unknownSubsets(world, out);
  drWithoutService(world, out);
  selectorsMatchingNothing(world, out);
  strictWithoutSidecar(world, out);
  conflictingVirtualServices(world, out);
  injectionMissing(world, raw, out);
  const key = (f: Finding): string => `${f.object.namespace}/${f.object.kind}/${f.object.name}/${f.code}/${f.path ?? ''}/${f.message}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
