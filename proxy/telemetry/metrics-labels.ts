/**
 * Istio's standard metric labels, built once per route/cluster binding from the snapshot and
 * the peer's exchanged metadata. Pure. Values are bounded: workload, namespace, app,
 * version, principal, service, protocol, code, flags, security policy — never a path, a pod
 * IP or a trace id.
 */
import type { PeerMetadata } from './peer-metadata.ts';

export const UNKNOWN = 'unknown';

/** One side (source or destination) of a call, as label values. */
export interface SideLabels {
  workload: string;
  namespace: string;
  principal: string;
  app: string;
  version: string;
  canonicalService: string;
  canonicalRevision: string;
}

export const UNKNOWN_SIDE: SideLabels = { workload: UNKNOWN, namespace: UNKNOWN, principal: UNKNOWN, app: UNKNOWN, version: UNKNOWN, canonicalService: UNKNOWN, canonicalRevision: UNKNOWN };

/** The destination service as Istio labels it. */
export interface ServiceLabels {
  /** FQDN, e.g. `reviews.default.svc.cluster.local` (or the host as called for unknown ones). */
  host: string;
  name: string;
  namespace: string;
}

/** Splits `reviews.default.svc.cluster.local` into name and namespace; other hosts keep the host as name. */
export function serviceLabels(host: string): ServiceLabels {
  const bare = host.replace(/:\d+$/, '');
  const m = /^([^.]+)\.([^.]+)\.svc(\.|$)/.exec(bare);
  if (m !== null) return { host: bare, name: m[1]!, namespace: m[2]! };
  return { host: bare, name: bare, namespace: UNKNOWN };
}

/** Side labels from exchanged metadata; `principal` only when the connection was mTLS-verified. */
export function sideFromPeer(md: PeerMetadata | undefined, verifiedPrincipal: string | undefined): SideLabels {
  if (md === undefined) return verifiedPrincipal === undefined ? UNKNOWN_SIDE : { ...UNKNOWN_SIDE, principal: verifiedPrincipal, namespace: namespaceOfSpiffe(verifiedPrincipal) ?? UNKNOWN };
  return {
    workload: md.w,
    namespace: md.n,
    principal: verifiedPrincipal ?? UNKNOWN,
    app: md.a ?? UNKNOWN,
    version: md.v ?? UNKNOWN,
    canonicalService: md.cs ?? md.a ?? md.w,
    canonicalRevision: md.cr ?? md.v ?? 'latest',
  };
}

/** Side labels of the local proxy from its own metadata (principal known only when it speaks mTLS). */
export function localSide(md: PeerMetadata, principal: string): SideLabels {
  return sideFromPeer(md, principal);
}

/** `spiffe://td/ns/<ns>/sa/<sa>` → `<ns>`. */
export function namespaceOfSpiffe(id: string): string | undefined {
  const m = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/.exec(id);
  return m === null ? undefined : m[1];
}

export type Reporter = 'source' | 'destination';

/** Istio's `connection_security_policy`: the source side cannot know it (Istio reports `unknown`). */
export function securityPolicy(reporter: Reporter, mtls: boolean): string {
  if (reporter === 'source') return UNKNOWN;
  return mtls ? 'mutual_tls' : 'none';
}

/** Label names of the HTTP request metrics, in Istio's order. */
export const HTTP_LABELS = [
  'response_code', 'reporter',
  'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version',
  'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version',
  'destination_service', 'destination_service_name', 'destination_service_namespace',
  'request_protocol', 'response_flags', 'grpc_response_status', 'connection_security_policy',
  'source_canonical_service', 'destination_canonical_service', 'source_canonical_revision', 'destination_canonical_revision',
  'source_cluster', 'destination_cluster',
] as const;

/** Istio's TCP metrics carry the same labels minus response_code and grpc_response_status; `security_policy` mirrors connection_security_policy (see docs in metrics.ts). */
export const TCP_LABELS = [...HTTP_LABELS.filter((l) => l !== 'response_code' && l !== 'grpc_response_status'), 'security_policy'] as const;

/** The label object for one child: built on a cache miss only, never per request. */
export function httpLabels(o: { reporter: Reporter; source: SideLabels; destination: SideLabels; service: ServiceLabels; protocol: string; code: string; flags: string; grpcStatus: string; mtls: boolean; cluster: string }): Record<string, string> {
  return {
    response_code: o.code,
    reporter: o.reporter,
    ...sideRecord('source', o.source),
    ...sideRecord('destination', o.destination),
    destination_service: o.service.host,
    destination_service_name: o.service.name,
    destination_service_namespace: o.service.namespace,
    request_protocol: o.protocol,
    response_flags: o.flags,
    grpc_response_status: o.grpcStatus,
    connection_security_policy: securityPolicy(o.reporter, o.mtls),
    source_canonical_service: o.source.canonicalService,
    destination_canonical_service: o.destination.canonicalService,
    source_canonical_revision: o.source.canonicalRevision,
    destination_canonical_revision: o.destination.canonicalRevision,
    source_cluster: o.cluster,
    destination_cluster: o.cluster,
  };
}

function sideRecord(prefix: 'source' | 'destination', s: SideLabels): Record<string, string> {
  return {
    [`${prefix}_workload`]: s.workload,
    [`${prefix}_workload_namespace`]: s.namespace,
    [`${prefix}_principal`]: s.principal,
    [`${prefix}_app`]: s.app,
    [`${prefix}_version`]: s.version,
  };
}

/** TCP label object (same fields as HTTP without code/grpc, plus the `security_policy` alias). */
export function tcpLabels(o: { reporter: Reporter; source: SideLabels; destination: SideLabels; service: ServiceLabels; flags: string; mtls: boolean; cluster: string }): Record<string, string> {
  const all = httpLabels({ ...o, protocol: 'tcp', code: '', grpcStatus: '' });
  const out: Record<string, string> = {};
  for (const name of TCP_LABELS) out[name] = name === 'security_policy' ? all.connection_security_policy! : all[name]!;
  return out;
}
