/** Raw Kubernetes-shaped objects as both sources deliver them, and the kinds the operator reads. */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [extra: string]: unknown;
}

/** Where an object came from, for `file:line` in logs (local mode) or nothing (cluster). */
export interface ObjectOrigin {
  file?: string;
  line?: number;
}

/** The Istio kinds whose status the operator owns. */
export const MESH_KINDS = ['VirtualService', 'DestinationRule', 'PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication'] as const;
export type MeshKind = (typeof MESH_KINDS)[number];

/** Every kind the World is built from. */
export const WORLD_KINDS = [...MESH_KINDS, 'Service', 'EndpointSlice', 'Pod', 'Namespace', 'WorkloadEntry'] as const;
export type WorldKind = (typeof WORLD_KINDS)[number];

export function isMeshKind(kind: string): kind is MeshKind {
  return (MESH_KINDS as readonly string[]).includes(kind);
}

/** Store key: `Kind/namespace/name` (cluster-scoped kinds have an empty namespace). */
export function objectKey(obj: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/** The install namespace, which is also Istio's root namespace for mesh-wide policy. */
export const ROOT_NAMESPACE = 'meshlet-system';
export const DOMAIN_SUFFIX = 'svc.cluster.local';
