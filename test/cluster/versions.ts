// Pinned versions of the control-plane binaries. Bumping one means editing the
// matching wrapper module under go/ (go.mod + go.sum) as well; the cache stamp
// covers both, so a bump rebuilds exactly the binaries that changed.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const KUBERNETES_VERSION = 'v1.34.4';
export const ETCD_VERSION = 'v3.6.8';
export const HELM_VERSION = 'v3.19.5';
/** Oldest Go that builds all three wrapper modules (their go.mod `go` lines). */
export const MIN_GO_VERSION = '1.24.0';

export type BinaryName = 'kube-apiserver' | 'kubectl' | 'etcd' | 'helm';

export interface BinarySpec<Name extends string = BinaryName> {
  name: Name;
  /** Wrapper module directory, relative to test/cluster/go/. */
  module: string;
  /** Package path of the main package. */
  pkg: string;
  version: string;
  ldflags: string[];
}

export function kubeVersionFlags(): string[] {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  const flags: string[] = [];
  // Both packages carry a copy of the version; kubectl's client side reads
  // client-go's, the apiserver (and so `helm`/`kubectl version`) component-base's.
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(
      `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
    );
  }
  return flags;
}

function helmVersionFlags(): string[] {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  return [
    `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
    // Helm's Makefile sets these so `.Capabilities.KubeVersion` defaults match the client libs.
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${major}`,
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}`,
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${major}`,
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}`,
  ];
}

export const BINARIES: readonly BinarySpec[] = [
  { name: 'etcd', module: 'etcd', pkg: 'go.etcd.io/etcd/server/v3', version: ETCD_VERSION, ldflags: [] },
  { name: 'kube-apiserver', module: 'kube', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', version: KUBERNETES_VERSION, ldflags: kubeVersionFlags() },
  { name: 'kubectl', module: 'kube', pkg: 'k8s.io/kubernetes/cmd/kubectl', version: KUBERNETES_VERSION, ldflags: kubeVersionFlags() },
  { name: 'helm', module: 'helm', pkg: 'helm.sh/helm/v3/cmd/helm', version: HELM_VERSION, ldflags: helmVersionFlags() },
];

/** Root of the binary cache; one sub-directory per Kubernetes version. */
export function cacheRoot(): string {
  const fromEnv = process.env.MESHLET_K8S_CACHE;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'meshlet', 'k8s');
}

export function cacheDir(): string {
  return join(cacheRoot(), KUBERNETES_VERSION);
}
