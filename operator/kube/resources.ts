/** The resources the operator watches, with their API paths. */
export interface WatchedResource {
  kind: string;
  group: string;
  /** Versions to watch, preferred first; mesh kinds are watched at every served version. */
  versions: string[];
  plural: string;
}

export const WATCHED: readonly WatchedResource[] = [
  { kind: 'VirtualService', group: 'networking.istio.io', versions: ['v1', 'v1beta1'], plural: 'virtualservices' },
  { kind: 'DestinationRule', group: 'networking.istio.io', versions: ['v1', 'v1beta1'], plural: 'destinationrules' },
  { kind: 'PeerAuthentication', group: 'security.istio.io', versions: ['v1', 'v1beta1'], plural: 'peerauthentications' },
  { kind: 'AuthorizationPolicy', group: 'security.istio.io', versions: ['v1', 'v1beta1'], plural: 'authorizationpolicies' },
  { kind: 'RequestAuthentication', group: 'security.istio.io', versions: ['v1', 'v1beta1'], plural: 'requestauthentications' },
  { kind: 'WorkloadEntry', group: 'networking.istio.io', versions: ['v1', 'v1beta1'], plural: 'workloadentries' },
  { kind: 'Service', group: '', versions: ['v1'], plural: 'services' },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', versions: ['v1'], plural: 'endpointslices' },
  { kind: 'Pod', group: '', versions: ['v1'], plural: 'pods' },
  { kind: 'Namespace', group: '', versions: ['v1'], plural: 'namespaces' },
];

export function apiVersionOf(r: WatchedResource, version: string): string {
  return r.group === '' ? version : `${r.group}/${version}`;
}

/** How logs, metrics and /ready name one watched resource version: `virtualservices.networking.istio.io/v1`. */
export function resourceName(r: WatchedResource, version: string): string {
  return `${r.plural}.${r.group === '' ? 'core' : r.group}/${version}`;
}

/** Cluster-wide collection path, e.g. `/apis/networking.istio.io/v1/virtualservices`. */
export function collectionPath(r: WatchedResource, version: string): string {
  return r.group === '' ? `/api/${version}/${r.plural}` : `/apis/${r.group}/${version}/${r.plural}`;
}

/** Path of one namespaced object's status subresource. */
export function statusPath(r: WatchedResource, version: string, namespace: string, name: string): string {
  return `/apis/${r.group}/${version}/namespaces/${namespace}/${r.plural}/${name}/status`;
}

export function resourceOf(kind: string): WatchedResource | undefined {
  return WATCHED.find((r) => r.kind === kind);
}
