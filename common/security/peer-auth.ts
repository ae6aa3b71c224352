/**
 * PeerAuthentication resolution for one workload (pure). Levels, most specific wins:
 * mesh (root namespace, no selector) < namespace (no selector) < workload (selector matches)
 * < port (portLevelMtls of the workload policy; Istio honours port-level only with a selector).
 * UNSET inherits from the level above; nothing set anywhere means PERMISSIVE. Selector policies
 * in the root namespace apply only to workloads of that namespace (Istio ignores them elsewhere).
 * Several policies at one level: the oldest wins (creationTimestamp, then name), as in Istio.
 * The operator's translation calls this to fill `security.peerAuthentication` of a snapshot.
 */
import type { MtlsMode, PeerAuthenticationSettings, Provenance } from '../snapshot.ts';

export type PeerAuthMode = MtlsMode | 'UNSET';

/** The fields of a PeerAuthentication object that resolution reads. */
export interface PeerAuthenticationObject {
  metadata: { name: string; namespace: string; creationTimestamp?: string };
  spec: {
    selector?: { matchLabels?: Record<string, string> };
    mtls?: { mode?: PeerAuthMode };
    portLevelMtls?: Record<string, { mode?: PeerAuthMode }>;
  };
}

export interface PeerAuthWorkload {
  namespace: string;
  labels: Record<string, string>;
}

export const MESH_DEFAULT_PROVENANCE: Provenance = { kind: 'default', namespace: '', name: 'mesh' };

function hasSelector(p: PeerAuthenticationObject): boolean {
  return Object.keys(p.spec.selector?.matchLabels ?? {}).length > 0;
}

function selects(p: PeerAuthenticationObject, labels: Record<string, string>): boolean {
  return Object.entries(p.spec.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function oldest(ps: PeerAuthenticationObject[]): PeerAuthenticationObject | undefined {
  return [...ps].sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? '';
    const tb = b.metadata.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
  })[0];
}

function provenanceOf(p: PeerAuthenticationObject): Provenance {
  return { kind: 'PeerAuthentication', namespace: p.metadata.namespace, name: p.metadata.name };
}

function modeOf(p: PeerAuthenticationObject | undefined): PeerAuthMode {
  return p?.spec.mtls?.mode ?? 'UNSET';
}

/** Effective settings for a workload, given every PeerAuthentication in the world. */
export function resolvePeerAuthentication(all: readonly PeerAuthenticationObject[], workload: PeerAuthWorkload, rootNamespace = 'meshlet-system'): PeerAuthenticationSettings {
  const mesh = oldest(all.filter((p) => p.metadata.namespace === rootNamespace && !hasSelector(p)));
  const ns = workload.namespace === rootNamespace ? undefined : oldest(all.filter((p) => p.metadata.namespace === workload.namespace && !hasSelector(p)));
  const wl = oldest(all.filter((p) => p.metadata.namespace === workload.namespace && hasSelector(p) && selects(p, workload.labels)));

  let mode: MtlsMode = 'PERMISSIVE';
  let provenance = MESH_DEFAULT_PROVENANCE;
  for (const p of [mesh, ns, wl]) {
    const m = modeOf(p);
    if (p !== undefined && m !== 'UNSET') {
      mode = m;
      provenance = provenanceOf(p);
    }
  }
  const ports: Record<string, MtlsMode> = {};
  for (const [port, v] of Object.entries(wl?.spec.portLevelMtls ?? {})) {
    const m = v.mode ?? 'UNSET';
    // Port-level UNSET inherits the workload's mode, i.e. no override.
    if (m !== 'UNSET' && m !== mode) ports[port] = m;
  }
  if (wl !== undefined && Object.keys(ports).length > 0) provenance = provenanceOf(wl);
  return { mode, ports, provenance };
}

/** The mode for one destination (app) port of the workload. */
export function mtlsModeForPort(settings: PeerAuthenticationSettings, port: number): MtlsMode {
  return settings.ports[String(port)] ?? settings.mode;
}
