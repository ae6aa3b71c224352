// The one-node cluster's configuration files, as pure functions of a directory layout: the
// containerd config, the CNI network, the kubelet and kube-proxy configurations, the Corefile,
// and the init script that runs as PID 1 of the node's namespaces. No I/O here.
import { stringify } from 'yaml';
import { NET } from './versions.ts';

export interface Layout {
  /** The node's temp dir (on the host's filesystem; visible from both sides). */
  dir: string;
  pki: string;
  logs: string;
  containerdSocket: string;
  sandboxImage: string;
}

export function layout(dir: string, sandboxImage: string): Layout {
  return { dir, pki: `${dir}/pki`, logs: `${dir}/logs`, containerdSocket: `${dir}/containerd/containerd.sock`, sandboxImage };
}

/** containerd 1.6 (Debian's), cgroupfs driver, runc, CNI from Debian's plugin directory. */
export function containerdConfig(l: Layout): string {
  return `version = 2
root = "${l.dir}/containerd/root"
state = "${l.dir}/containerd/state"
# Plugins that would write outside the node's directories or need other kernels.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${l.containerdSocket}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${l.sandboxImage}"
  # root here lacks CAP_SYS_RESOURCE: lowering oom_score_adj below the parent's fails in runc.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${l.dir}/cni"
`;
}

/** One bridge for the pods, host-local addresses, masquerade off (nothing leaves the node). */
export function cniConfig(l: Layout): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'meshlet-e2e',
      plugins: [
        {
          type: 'bridge',
          bridge: NET.podBridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: NET.podCidr, gateway: NET.podGateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: `${l.dir}/cni-ipam` },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

export function kubeletConfig(l: Layout): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NET.nodeIp,
    healthzBindAddress: '127.0.0.1',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: `${l.pki}/ca.crt` } },
    authorization: { mode: 'Webhook' },
    tlsCertFile: `${l.pki}/kubelet.crt`,
    tlsPrivateKeyFile: `${l.pki}/kubelet.key`,
    // No systemd as PID 1 on this machine kind.
    cgroupDriver: 'cgroupfs',
    // Every pod cgroup under one root of the test's own, removed on teardown.
    cgroupRoot: '/meshlet-e2e',
    failCgroupV1: false,
    // Do not write the host's kernel.panic & co.; the node's mount namespace shows the values
    // the kubelet checks for (see the init script).
    protectKernelDefaults: true,
    oomScoreAdj: 0,
    containerRuntimeEndpoint: `unix://${l.containerdSocket}`,
    clusterDNS: [NET.nodeIp],
    clusterDomain: NET.clusterDomain,
    resolvConf: `${l.dir}/resolv.conf`,
    podLogsDir: `${l.dir}/pod-logs`,
    failSwapOn: false,
    // The images were imported, not pulled: never garbage-collect them.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    serializeImagePulls: false,
    staticPodPath: '',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    nodeStatusUpdateFrequency: '5s',
    shutdownGracePeriod: '0s',
    maxPods: 60,
  });
}

export function kubeProxyConfig(l: Layout): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'nftables',
    clientConnection: { kubeconfig: `${l.dir}/kube-proxy.kubeconfig` },
    hostnameOverride: NET.nodeName,
    bindAddress: NET.nodeIp,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    clusterCIDR: NET.podCidr,
    // Service → pod on the same bridge: masquerade so the answer comes back through the node.
    nftables: { masqueradeAll: true },
    iptables: { masqueradeAll: true, localhostNodePorts: false },
    // 0: leave the (host-wide) conntrack table size and timeouts alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    nodePortAddresses: [`${NET.nodeIp}/32`],
  });
}

export function corefile(l: Layout): string {
  return `.:53 {
    bind ${NET.nodeIp}
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    kubernetes ${NET.clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${l.dir}/admin.kubeconfig meshlet-test
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    # No upstream: names outside the cluster do not resolve (nothing leaves the node).
    cache 5
}
`;
}

/** Values the kubelet checks (protectKernelDefaults) and would otherwise set on the host. */
export const KERNEL_DEFAULTS: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

export interface Daemon {
  name: string;
  argv: string[];
}

function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The script run as PID 1 of the node's namespaces (pid, mount, network; all private): mounts
 * that only the node sees, the node IP, then every daemon in the background. When this process
 * dies, the kernel kills everything in the PID namespace, and the mount and network namespaces
 * (bridges, veths, nftables rules, pod mounts) go with them.
 */
export function initScript(l: Layout, daemons: Daemon[]): string {
  const lines = [
    'set -eu',
    `D=${sh(l.dir)}`,
    // Hardcoded paths of containerd/CNI/kubelet (/run/containerd, /var/lib/cni, /var/log/containers)
    // land on the node's own tmpfs and directories, never on the host.
    'mount -t tmpfs -o mode=0755 meshlet-e2e-run /run',
    'mount -t tmpfs -o mode=0755 meshlet-e2e-varlib /var/lib',
    'mkdir -p "$D/varlog" && mount --bind "$D/varlog" /var/log',
    'mkdir -p "$D/sysctl"',
  ];
  for (const [path, value] of Object.entries(KERNEL_DEFAULTS)) {
    const file = `"$D/sysctl/${path.replace(/\//g, '.')}"`;
    lines.push(`if [ "$(cat /proc/sys/${path})" != ${sh(value)} ]; then echo ${sh(value)} > ${file}; mount --bind ${file} /proc/sys/${path}; fi`);
  }
  lines.push(
    'ip link set lo up',
    `ip link add ${NET.nodeBridge} type bridge`,
    `ip addr add ${NET.nodeIp}/32 dev ${NET.nodeBridge}`,
    `ip link set ${NET.nodeBridge} up`,
    // Per network namespace: this is the node's forwarding, not the host's.
    'echo 1 > /proc/sys/net/ipv4/ip_forward',
    'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || true',
    'echo ready > "$D/init.ready"',
  );
  for (const d of daemons) {
    // Restarted when it exits, as a service manager would: the controller-manager, for one,
    // exits when it starts before the apiserver has bootstrapped RBAC.
    lines.push(`(set +e; while :; do ${d.argv.map(sh).join(' ')}; echo "exited: $?" >&2; sleep 2; done) >> "$D/logs/${d.name}.log" 2>&1 &`);
  }
  // PID 1 reaps whatever is reparented to it (containerd shims) until it is killed.
  lines.push('while :; do wait || true; sleep 1; done');
  return `${lines.join('\n')}\n`;
}
