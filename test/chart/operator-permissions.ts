// What the operator's ServiceAccount must be able to do (one row per API call the operator,
// webhook and CA code make) and a sample of what it must not. Checked with a
// SubjectAccessReview for system:serviceaccount:meshlet-system:meshlet-operator (what
// `kubectl auth can-i --as=…` asks, but exact for kinds whose CRD is not installed, such as
// WorkloadEntry, which kubectl cannot resolve).

export interface Permission {
  verb: string;
  /** resource[.group][/name], as `kubectl auth can-i` writes it. */
  resource: string;
  namespace?: string;
  subresource?: string;
  /** Why the operator needs it (printed on failure). */
  why: string;
}

const MESH = ['virtualservices.networking.istio.io', 'destinationrules.networking.istio.io', 'peerauthentications.security.istio.io', 'authorizationpolicies.security.istio.io', 'requestauthentications.security.istio.io'];

export const NEEDED: Permission[] = [
  ...MESH.flatMap((r): Permission[] => [
    { verb: 'list', resource: r, why: 'informer' },
    { verb: 'watch', resource: r, why: 'informer' },
    { verb: 'update', resource: r, subresource: 'status', why: 'status conditions' },
    { verb: 'patch', resource: r, subresource: 'status', why: 'status conditions' },
  ]),
  { verb: 'list', resource: 'workloadentries.networking.istio.io', why: 'informer (operator/kube/resources.ts)' },
  { verb: 'watch', resource: 'workloadentries.networking.istio.io', why: 'informer (operator/kube/resources.ts)' },
  ...['services', 'pods', 'namespaces', 'endpointslices.discovery.k8s.io'].flatMap((r): Permission[] => [
    { verb: 'list', resource: r, why: 'service discovery informer' },
    { verb: 'watch', resource: r, why: 'service discovery informer' },
  ]),
  { verb: 'get', resource: 'namespaces', why: 'webhook namespace cache (readNamespace)' },
  { verb: 'create', resource: 'tokenreviews.authentication.k8s.io', why: 'CA checks sidecar tokens' },
  { verb: 'get', resource: 'secrets/meshlet-ca', namespace: 'meshlet-system', why: 'CA loads its root' },
  { verb: 'get', resource: 'secrets/cacerts', namespace: 'meshlet-system', why: 'bring-your-own CA (ca.existingSecret)' },
  { verb: 'create', resource: 'secrets', namespace: 'meshlet-system', why: 'CA stores a generated root; webhook stores its serving cert' },
  { verb: 'get', resource: 'secrets/meshlet-webhook-tls', namespace: 'meshlet-system', why: 'webhook serving cert shared by replicas' },
  { verb: 'update', resource: 'secrets/meshlet-webhook-tls', namespace: 'meshlet-system', why: 'webhook serving cert rotation' },
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
  { verb: 'update', resource: 'secrets/meshlet-ca', namespace: 'meshlet-system', why: 'never rewrites the CA' },
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

/** The SubjectAccessReview resourceAttributes for a row. */
export function resourceAttributes(p: Permission): { verb: string; group: string; resource: string; name?: string; namespace?: string; subresource?: string } {
  const [qualified, name] = p.resource.split('/') as [string, string | undefined];
  const dot = qualified.indexOf('.');
  return {
    verb: p.verb,
    resource: dot < 0 ? qualified : qualified.slice(0, dot),
    group: dot < 0 ? '' : qualified.slice(dot + 1),
    ...(name === undefined ? {} : { name }),
    ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
    ...(p.subresource === undefined ? {} : { subresource: p.subresource }),
  };
}

export function describePermission(p: Permission): string {
  return `${p.verb} ${p.resource}${p.subresource === undefined ? '' : `/${p.subresource}`}${p.namespace === undefined ? '' : ` -n ${p.namespace}`} (${p.why})`;
}
