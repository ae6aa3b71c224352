/** Names, ports and annotation keys of sidecar injection, from DESIGN.md §2. */
export const PROXY_UID = 1337;
export const PROXY_GID = 1337;
export const PORTS = { outbound: 15001, inbound: 15006, admin: 15000, health: 15021, prometheus: 15090, webhook: 15017 } as const;

export const INIT_CONTAINER = 'meshlet-init';
export const PROXY_CONTAINER = 'meshlet-proxy';
export const INSTALL_NAMESPACE = 'meshlet-system';
export const WEBHOOK_CONFIGURATION = 'meshlet-sidecar-injector';
export const TEMPLATE_CONFIGMAP = 'meshlet-sidecar-injector';
export const TOKEN_AUDIENCE = 'meshlet';

/** The DNS names the apiserver uses to reach the webhook Service `meshlet` in meshlet-system. */
export function serviceHosts(service = 'meshlet', namespace = INSTALL_NAMESPACE): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/** Namespaces never injected, whatever their labels say. */
export const NEVER_INJECT_NAMESPACES: readonly string[] = ['kube-system', 'meshlet-system'];

export const ANN = {
  status: 'sidecar.meshlet.io/status',
  inject: 'sidecar.inject',
  istioInject: 'sidecar.istio.io/inject',
  appProbes: 'sidecar.meshlet.io/app-probes',
  appMetrics: 'sidecar.meshlet.io/app-metrics',
  defaultContainer: 'kubectl.kubernetes.io/default-container',
} as const;

/** Namespace selectors: label `sidecar.inject=true` or Istio's `istio-injection=enabled`. */
export const NS_LABEL = { key: 'sidecar.inject', value: 'true' } as const;
export const ISTIO_NS_LABEL = { key: 'istio-injection', value: 'enabled' } as const;

/** Volume names and mount paths the proxy reads (contract with proxy/, see webhook/README.md). */
export const VOLUMES = {
  // The paths `meshlet proxy` reads by default (cli/commands/proxy.ts, proxy/identity.ts).
  token: { name: 'meshlet-token', mountPath: '/var/run/secrets/tokens', file: 'meshlet-token' },
  podinfo: { name: 'meshlet-podinfo', mountPath: '/etc/podinfo' },
  caRoot: { name: 'meshlet-ca-root', mountPath: '/var/run/secrets/meshlet/ca', configMap: 'meshlet-ca-root', file: 'root-cert.pem' },
  data: { name: 'meshlet-data', mountPath: '/var/lib/meshlet' },
} as const;

/** Kubernetes minor version from which native sidecars (initContainer restartPolicy Always) are on by default. */
export const NATIVE_SIDECAR_MIN = { major: 1, minor: 29 } as const;
