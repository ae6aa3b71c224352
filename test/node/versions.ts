// What the one-node cluster is built from: the node binaries (same Kubernetes release and
// ldflags as test/cluster's kube-apiserver), CoreDNS, the pause binary, and the fixed
// addresses of the node (all in 198.18.0.0/15, inside the node's own network namespace).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KUBERNETES_VERSION, kubeVersionFlags } from '../cluster/versions.ts';
import type { BinarySpec } from '../cluster/versions.ts';

export const COREDNS_VERSION = 'v1.14.7';
export const GO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'go');

export type NodeBinaryName = 'kubelet' | 'kube-controller-manager' | 'kube-scheduler' | 'kube-proxy' | 'coredns' | 'pause';

export const NODE_BINARIES: readonly BinarySpec<NodeBinaryName>[] = [
  { name: 'kube-scheduler', module: 'kube', pkg: 'k8s.io/kubernetes/cmd/kube-scheduler', version: KUBERNETES_VERSION, ldflags: kubeVersionFlags() },
  { name: 'kube-proxy', module: 'kube', pkg: 'k8s.io/kubernetes/cmd/kube-proxy', version: KUBERNETES_VERSION, ldflags: kubeVersionFlags() },
  { name: 'kubelet', module: 'kube', pkg: 'k8s.io/kubernetes/cmd/kubelet', version: KUBERNETES_VERSION, ldflags: kubeVersionFlags() },
  { name: 'kube-controller-manager', module: 'kube', pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager', version: KUBERNETES_VERSION, ldflags: kubeVersionFlags() },
  {
    name: 'coredns',
    module: 'coredns',
    pkg: 'meshlet.test/node/coredns',
    version: COREDNS_VERSION,
    ldflags: [`-X github.com/coredns/coredns/coremain.GitCommit=${COREDNS_VERSION}`],
  },
  { name: 'pause', module: 'pause', pkg: 'meshlet.test/node/pause', version: '1', ldflags: [] },
];

/** Addresses of the node; every one inside the node's network namespace except HOST_LINK. */
export const NET = {
  /** The node IP, held by an otherwise empty bridge (this machine kind has no `dummy` driver). */
  nodeIp: '198.18.0.1',
  nodeBridge: 'meshlet-e2e0',
  /** Pods: the CNI bridge plugin's bridge and its range. */
  podBridge: 'meshlet-e2e-cni',
  podCidr: '198.18.64.0/18',
  podGateway: '198.18.64.1',
  /** Services (kube-apiserver's --service-cluster-ip-range); the `kubernetes` Service is .1. */
  serviceCidr: '198.19.0.0/24',
  kubernetesServiceIp: '198.19.0.1',
  /** The veth pair between the host and the node's namespace, so the tests reach the apiserver. */
  hostVeth: 'meshlet-e2e-h',
  nodeVeth: 'meshlet-e2e-n',
  hostLinkIp: '198.19.255.1',
  nodeLinkIp: '198.19.255.2',
  /** What the host routes to the node (node IP, pods). */
  hostRoute: '198.18.0.0/16',
  apiserverPort: 6443,
  nodeName: 'meshlet-e2e',
  clusterDomain: 'cluster.local',
} as const;
