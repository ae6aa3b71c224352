/**
 * Per-pod overrides of the sidecar values by annotation. Istio's names are accepted; meshlet's
 * own (`sidecar.meshlet.io/<name>`) win when both are set. Pure; a bad value is an error (the pod
 * is refused with the annotation named) rather than silently ignored.
 */
import { MeshletError } from '../common/errors.ts';
import { isCidr, isPortList, splitList } from './lists.ts';
import { LOG_LEVELS, isQuantity, type SidecarValues } from './values.ts';

type Kind = 'quantity' | 'ports' | 'inboundPorts' | 'ranges' | 'includeRanges' | 'logLevel' | 'concurrency';

const KEYS: readonly { name: string; istio: string | null; kind: Kind }[] = [
  { name: 'proxyCPU', istio: 'sidecar.istio.io/proxyCPU', kind: 'quantity' },
  { name: 'proxyMemory', istio: 'sidecar.istio.io/proxyMemory', kind: 'quantity' },
  { name: 'proxyCPULimit', istio: 'sidecar.istio.io/proxyCPULimit', kind: 'quantity' },
  { name: 'proxyMemoryLimit', istio: 'sidecar.istio.io/proxyMemoryLimit', kind: 'quantity' },
  { name: 'excludeOutboundPorts', istio: 'traffic.sidecar.istio.io/excludeOutboundPorts', kind: 'ports' },
  { name: 'excludeInboundPorts', istio: 'traffic.sidecar.istio.io/excludeInboundPorts', kind: 'ports' },
  { name: 'includeInboundPorts', istio: 'traffic.sidecar.istio.io/includeInboundPorts', kind: 'inboundPorts' },
  { name: 'includeOutboundIPRanges', istio: 'traffic.sidecar.istio.io/includeOutboundIPRanges', kind: 'includeRanges' },
  { name: 'excludeOutboundIPRanges', istio: 'traffic.sidecar.istio.io/excludeOutboundIPRanges', kind: 'ranges' },
  { name: 'logLevel', istio: 'sidecar.istio.io/logLevel', kind: 'logLevel' },
  { name: 'concurrency', istio: null, kind: 'concurrency' },
];

export const OWN_OVERRIDE_PREFIX = 'sidecar.meshlet.io/';

/** The effective per-pod sidecar settings: values with the pod's overrides applied. */
export interface SidecarSettings {
  values: SidecarValues;
  includeInboundPorts: string;
}

function valid(kind: Kind, v: string): boolean {
  switch (kind) {
    case 'quantity': return isQuantity(v);
    case 'ports': return isPortList(v);
    case 'inboundPorts': return v.trim() === '*' || isPortList(v);
    case 'ranges': return splitList(v).every(isCidr);
    case 'includeRanges': return v.trim() === '*' || splitList(v).every(isCidr);
    case 'logLevel': return LOG_LEVELS.includes(v);
    case 'concurrency': return /^\d{1,3}$/.test(v) && Number(v) <= 256;
  }
}

/** Applies the pod's override annotations to the values; throws MESHLET_WEBHOOK_BAD_OVERRIDE. */
export function applyOverrides(values: SidecarValues, annotations: Record<string, string> | undefined): SidecarSettings {
  const v = structuredClone(values);
  let includeInboundPorts = '*';
  for (const key of KEYS) {
    const own = `${OWN_OVERRIDE_PREFIX}${key.name}`;
    const annKey = annotations?.[own] !== undefined ? own : key.istio !== null && annotations?.[key.istio] !== undefined ? key.istio : null;
    if (annKey === null) continue;
    const raw = (annotations?.[annKey] ?? '').trim();
    if (!valid(key.kind, raw)) throw new MeshletError('MESHLET_WEBHOOK_BAD_OVERRIDE', `${annKey}: "${raw}"`);
    switch (key.name) {
      case 'proxyCPU': v.proxy.resources.requests.cpu = raw; break;
      case 'proxyMemory': v.proxy.resources.requests.memory = raw; break;
      case 'proxyCPULimit': v.proxy.resources.limits.cpu = raw; break;
      case 'proxyMemoryLimit': v.proxy.resources.limits.memory = raw; break;
      case 'excludeOutboundPorts': v.traffic.excludeOutboundPorts = raw; break;
      case 'excludeInboundPorts': v.traffic.excludeInboundPorts = raw; break;
      case 'includeInboundPorts': includeInboundPorts = raw; break;
      case 'includeOutboundIPRanges': v.traffic.includeOutboundIPRanges = raw; break;
      case 'excludeOutboundIPRanges': v.traffic.excludeOutboundIPRanges = raw; break;
      case 'logLevel': v.proxy.logLevel = raw; break;
      case 'concurrency': v.proxy.concurrency = Number(raw); break;
    }
  }
  return { values: v, includeInboundPorts };
}
