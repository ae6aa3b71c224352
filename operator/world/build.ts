/**
 * Builds the World from raw objects: normalizes Services, resolves endpoints from
 * EndpointSlices (with their Pods) and WorkloadEntries (selected by Service selectors),
 * sorts everything, hashes and freezes it. Pure: the same objects give the same World.
 */
import type { MeshTelemetryConfig } from '../translate/telemetry-settings.ts';
import { createHash } from 'node:crypto';
import type { K8sObject } from './objects.ts';
import { DOMAIN_SUFFIX, ROOT_NAMESPACE } from './objects.ts';
import type { JwksEntry, MeshConfig, World, WorldEndpoint, WorldMeta, WorldService, WorldWorkload } from './types.ts';
import { contentHash, deepFreeze, stableStringify } from './hash.ts';
import { portProtocol } from './protocol.ts';
import { workloadFromPod, workloadFromWorkloadEntry, labelsMatch, targetPortOn } from './workloads.ts';
import { endpointsFromSlices } from './endpoint-slices.ts';

type Obj = Record<string, unknown>;

export function metaOf(o: K8sObject): WorldMeta {
  const m = o.metadata;
  return { name: m.name, namespace: m.namespace ?? '', creationTimestamp: m.creationTimestamp ?? '', generation: m.generation ?? 0, labels: m.labels ?? {} };
}

function byNsName(a: { namespace: string; name: string }, b: { namespace: string; name: string }): number {
  return a.namespace === b.namespace ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.namespace < b.namespace ? -1 : 1;
}

/** Oldest first, ties by namespace then name: Istio's precedence order for merging. */
export function byAge(a: { meta: WorldMeta }, b: { meta: WorldMeta }): number {
  if (a.meta.creationTimestamp !== b.meta.creationTimestamp) return a.meta.creationTimestamp < b.meta.creationTimestamp ? -1 : 1;
  return byNsName(a.meta, b.meta);
}

function splitList(v: string | undefined): string[] {
  if (v === undefined) return ['*'];
  const parts = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return parts.length === 0 ? ['*'] : parts;
}

function normalizeService(o: K8sObject): WorldService | undefined {
  const spec = (o.spec ?? {}) as Obj;
  if (spec.type === 'ExternalName') return undefined;
  const meta = metaOf(o);
  const ports: WorldService['ports'] = [];
  for (const p of (spec.ports ?? []) as Obj[]) {
    const protocol = portProtocol(p as { name?: string; appProtocol?: string; protocol?: string });
    if (protocol === undefined || typeof p.port !== 'number') continue;
    const name = typeof p.name === 'string' ? p.name : '';
    const tp = p.targetPort;
    ports.push({ name, port: p.port, targetPort: typeof tp === 'number' || typeof tp === 'string' ? tp : p.port, protocol });
  }
  ports.sort((a, b) => a.port - b.port);
  const selector = spec.selector as Record<string, string> | undefined;
  const ip = typeof spec.clusterIP === 'string' && spec.clusterIP !== 'None' && spec.clusterIP !== '' ? spec.clusterIP : undefined;
  const svc: WorldService = {
    meta,
    hostname: `${meta.name}.${meta.namespace}.${DOMAIN_SUFFIX}`,
    contentKey: '',
    ports,
    exportTo: splitList(o.metadata.annotations?.['networking.istio.io/exportTo']),
  };
  if (selector !== undefined && Object.keys(selector).length > 0) svc.selector = selector;
  if (ip !== undefined) svc.clusterIP = ip;
  return svc;
}

/** WorkloadEntries by `namespace/label=value`, so a selector looks at a few candidates, not all. */
function indexEntries(entries: WorldWorkload[]): Map<string, WorldWorkload[]> {
  const idx = new Map<string, WorldWorkload[]>();
  for (const w of entries) {
    if (w.ip === '') continue;
    for (const [k, v] of Object.entries(w.labels)) {
      const key = `${w.namespace}/${k}=${v}`;
      const list = idx.get(key);
      if (list === undefined) idx.set(key, [w]);
      else list.push(w);
    }
  }
  return idx;
}

function entryEndpoints(svc: WorldService, idx: Map<string, WorldWorkload[]>): WorldEndpoint[] {
  if (svc.selector === undefined) return [];
  let candidates: WorldWorkload[] | undefined;
  for (const [k, v] of Object.entries(svc.selector)) {
    const list = idx.get(`${svc.meta.namespace}/${k}=${v}`) ?? [];
    if (candidates === undefined || list.length < candidates.length) candidates = list;
  }
  const out: WorldEndpoint[] = [];
  for (const w of candidates ?? []) {
    if (!labelsMatch(svc.selector, w.labels)) continue;
    const ports: Record<string, number> = {};
    for (const p of svc.ports) ports[p.name] = targetPortOn(p, w);
    out.push({ address: w.ip, ports, ready: true, workload: w, source: { kind: 'WorkloadEntry', namespace: w.namespace, name: w.name } });
  }
  return out;
}

function meshConfigs<S>(objs: K8sObject[], kind: string): MeshConfig<S>[] {
  return objs
    .filter((o) => o.kind === kind)
    .map((o) => ({ kind, meta: metaOf(o), spec: (o.spec ?? {}) as S }))
    .sort(byAge);
}

export interface BuildOptions {
  rootNamespace?: string;
  /**
   * A content fingerprint of `objects` computed by the caller (the store keeps one up to
   * date incrementally); without it the objects are hashed here.
   */
  fingerprint?: string;
  /** Mesh-wide telemetry settings (the chart's mesh.yaml); part of the World and its hash. */
  meshTelemetry?: MeshTelemetryConfig;
  /** Local mode (`meshlet local`): meshed endpoints are their sidecar's inbound port. */
  localMode?: { inboundPort: number };
  /** SPIFFE trust domain (default cluster.local); part of the World and its hash when set. */
  trustDomain?: string;
  /** jwksUri → the keys the operator fetched (part of the World and its hash). */
  jwks?: Record<string, JwksEntry>;
}

/** Only the URIs a RequestAuthentication names matter; sorted so the hash ignores fetch order. */
function sortedJwks(jwks: Record<string, JwksEntry> | undefined): Record<string, JwksEntry> {
  const out: Record<string, JwksEntry> = {};
  for (const k of Object.keys(jwks ?? {}).sort()) out[k] = jwks![k]!;
  return out;
}

export function buildWorld(objects: readonly K8sObject[], opts: BuildOptions = {}): World {
  const objs = [...objects];
  const namespaces: World['namespaces'] = {};
  for (const o of objs.filter((x) => x.kind === 'Namespace').sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    namespaces[o.metadata.name] = { labels: o.metadata.labels ?? {} };
  }
  const services = objs.filter((o) => o.kind === 'Service').map(normalizeService).filter((s): s is WorldService => s !== undefined).sort((a, b) => byNsName(a.meta, b.meta));
  const pods = objs.filter((o) => o.kind === 'Pod').map(workloadFromPod);
  const entries = objs.filter((o) => o.kind === 'WorkloadEntry').map(workloadFromWorkloadEntry);
  const workloads = [...pods, ...entries].sort(byNsName);
  const podIndex = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const entryIndex = indexEntries(entries);
  const fromSlices = endpointsFromSlices(objs.filter((o) => o.kind === 'EndpointSlice'), podIndex);
  const endpoints: World['endpoints'] = {};
  for (const svc of services) {
    const key = `${svc.meta.namespace}/${svc.meta.name}`;
    const byAddr = new Map<string, WorldEndpoint>();
    for (const e of [...(fromSlices.get(key) ?? []), ...entryEndpoints(svc, entryIndex)]) if (!byAddr.has(e.address)) byAddr.set(e.address, e);
    endpoints[key] = [...byAddr.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    // Everything translation reads about this service, for content-addressed caching.
    // The trust domain is in every meshed endpoint's expected identity.
    const extra = [...(opts.localMode === undefined ? [] : [opts.localMode]), ...(opts.trustDomain === undefined ? [] : [opts.trustDomain])];
    svc.contentKey = createHash('sha1').update(JSON.stringify([svc, endpoints[key], ...extra])).digest('base64');
  }
  const content = {
    rootNamespace: opts.rootNamespace ?? ROOT_NAMESPACE,
    namespaces,
    services,
    endpoints,
    workloads,
    virtualServices: meshConfigs<World['virtualServices'][number]['spec']>(objs, 'VirtualService'),
    destinationRules: meshConfigs<World['destinationRules'][number]['spec']>(objs, 'DestinationRule'),
    peerAuthentications: meshConfigs<World['peerAuthentications'][number]['spec']>(objs, 'PeerAuthentication'),
    authorizationPolicies: meshConfigs<World['authorizationPolicies'][number]['spec']>(objs, 'AuthorizationPolicy'),
    requestAuthentications: meshConfigs<World['requestAuthentications'][number]['spec']>(objs, 'RequestAuthentication'),
    jwks: sortedJwks(opts.jwks),
    ...(opts.meshTelemetry === undefined ? {} : { meshTelemetry: opts.meshTelemetry }),
    ...(opts.localMode === undefined ? {} : { localMode: opts.localMode }),
    ...(opts.trustDomain === undefined ? {} : { trustDomain: opts.trustDomain }),
  };
  // The World is a pure function of its inputs, so hashing the inputs hashes the World.
  const inputs = opts.fingerprint ?? contentHash(objs.map((o) => stableStringify(o)).sort());
  const jwksPart = Object.keys(content.jwks).length === 0 ? {} : { jwks: content.jwks };
  return deepFreeze({ hash: contentHash({ inputs, rootNamespace: content.rootNamespace, ...(opts.meshTelemetry === undefined ? {} : { meshTelemetry: opts.meshTelemetry }), ...(opts.localMode === undefined ? {} : { localMode: opts.localMode }), ...(opts.trustDomain === undefined ? {} : { trustDomain: opts.trustDomain }), ...jwksPart }), ...content });
}
