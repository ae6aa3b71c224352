// What the operator's ServiceAccount must be able to do (one row per API call the operator,
// webhook and CA code make) and a sample of what it must not. Checked with
// `kubectl auth can-i --as=system:serviceaccount:meshlet-system:meshlet-operator`.

export interface Permission {
  verb: string;
  /** resource[.group][/name], as kubectl auth can-i takes it. */
  resource: string;
  namespace?: string;
  subresource?: string;
  /** Why the operator needs it (printed on failure). */
  why: string;
}

const MESH = ['virtualservices.networking.istio.io', 'destinationrules.networking.istio.io', 'peerauthentications.security.istio.io', 'authorizationpolicies.security.istio.io'];

export const NEEDED: Permission[] = [
  ...MESH.flatMap((r): Permission[] => [
    { verb: 'list', resource: r, why: 'informer' },
    { verb: 'watch', resource: r, why: 'informer' },
    { verb: 'update', resource: r, subresource: 'status', why: 'status conditions' },
    { verb: 'patch', resource: r, subresource: 'status', why: 'status conditions' },
  ]),
  ...['services', 'pods', 'namespaces', 'endpointslices.discovery.k8s.io'].flatMap((r): Permission[] => [
    { verb: 'list', resource: r, why: 'service discovery informer' },
    { verb: 'watch', resource: r, why: 'service discovery informer' },
  ]),
  { verb: 'get', resource: 'namespaces', why: 'webhook namespace cache (readNamespace)' },
  { verb: 'create', resource: 'tokenreviews.authentication.k8s.io', why: 'CA checks sidecar tokens' },
  { verb: 'get', resource: 'secrets/meshlet-ca', namespace: 'meshlet-system', why: 'CA loads its root' },
  { verb: 'get', resource: 'secrets/cacerts', namespace: 'meshlet-system', why: 'bring-your-own CA (ca.existingSecret)' },
  { verb: 'create', resource: 'secrets', namespace: 'meshlet-system', why: 'CA stores a generated root' },
  { verb: 'create', resource: 'configmaps', namespace: 'shop', why: 'publish meshlet-ca-root into an injected namespace' },
  { verb: 'get', resource: 'configmaps/meshlet-ca-root', namespace: 'shop', why: 'publish meshlet-ca-root' },
  { verb: 'update', resource: 'configmaps/meshlet-ca-root', namespace: 'shop', why: 'publish meshlet-ca-root (replace)' },
  { verb: 'get', resource: 'configmaps/meshlet-sidecar-injector', namespace: 'meshlet-system', why: 'webhook template values' },
  { verb: 'watch', resource: 'configmaps', namespace: 'meshlet-system', why: 'webhook template values' },
  { verb: 'get', resource: 'leases.coordination.k8s.io', namespace: 'meshlet-system', why: 'leader election' },
  { verb: 'create', resource: 'leases.coordination.k8s.io', namespace: 'meshlet-system', why: 'leader election' },
  { verb: 'update', resource: 'leases.coordination.k8s.io', namespace: 'meshlet-system', why: 'leader election' },
  { verb: 'get', resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io/meshlet-sidecar-injector', why: 'caBundle' },
  { verb: 'update', resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io/meshlet-sidecar-injector', why: 'caBundle (read-modify-replace)' },
  { verb: 'get', resource: 'validatingwebhookconfigurations.admissionregistration.k8s.io/meshlet-validator', why: 'caBundle' },
  { verb: 'update', resource: 'validatingwebhookconfigurations.admissionregistration.k8s.io/meshlet-validator', why: 'caBundle (read-modify-replace)' },
];

export const DENIED: Permission[] = [
  { verb: 'list', resource: 'secrets', namespace: 'meshlet-system', why: 'no listing of Secrets' },
  { verb: 'get', resource: 'secrets/other', namespace: 'meshlet-system', why: 'only the CA Secrets' },
  { verb: 'get', resource: 'secrets/meshlet-ca', namespace: 'shop', why: 'no Secrets outside the install namespace' },
  { verb: 'delete', resource: 'secrets/meshlet-ca', namespace: 'meshlet-system', why: 'never deletes the CA' },
  { verb: 'get', resource: 'configmaps/app-settings', namespace: 'shop', why: "users' ConfigMaps are not the operator's" },
  { verb: 'update', resource: 'configmaps/app-settings', namespace: 'shop', why: "users' ConfigMaps are not the operator's" },
  { verb: 'delete', resource: 'configmaps', namespace: 'shop', why: 'never deletes ConfigMaps' },
  { verb: 'create', resource: 'virtualservices.networking.istio.io', namespace: 'shop', why: "users own their VirtualServices" },
  { verb: 'update', resource: 'virtualservices.networking.istio.io', namespace: 'shop', why: 'status only' },
  { verb: 'delete', resource: 'virtualservices.networking.istio.io', namespace: 'shop', why: 'status only' },
  { verb: 'create', resource: 'pods', namespace: 'shop', why: 'never creates workloads' },
  { verb: 'patch', resource: 'pods', namespace: 'shop', why: 'injection is by admission, not by patching' },
  { verb: 'update', resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io/someone-else', why: "other webhooks are not the operator's" },
  { verb: 'delete', resource: 'mutatingwebhookconfigurations.admissionregistration.k8s.io/meshlet-sidecar-injector', why: 'Helm owns the configuration' },
  { verb: 'create', resource: 'clusterrolebindings.rbac.authorization.k8s.io', why: 'no privilege escalation' },
  { verb: 'update', resource: 'leases.coordination.k8s.io', namespace: 'kube-system', why: 'leader election only in its own namespace' },
  { verb: 'impersonate', resource: 'serviceaccounts', why: 'no impersonation' },
];

export function canIArgs(p: Permission, as: string): string[] {
  const args = ['auth', 'can-i', p.verb, p.resource, `--as=${as}`];
  if (p.namespace !== undefined) args.push('-n', p.namespace);
  if (p.subresource !== undefined) args.push(`--subresource=${p.subresource}`);
  return args;
}

export function describePermission(p: Permission): string {
  return `${p.verb} ${p.resource}${p.subresource === undefined ? '' : `/${p.subresource}`}${p.namespace === undefined ? '' : ` -n ${p.namespace}`} (${p.why})`;
}
