// A real one-node Kubernetes cluster for end-to-end tests: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, containerd + runc, kubelet, kube-proxy (nftables) and
// CoreDNS, all inside one set of private namespaces (PID, mount, network) on 198.18.0.0/15.
// The host sees one veth and one route; killing the namespaces' PID 1 ends every process of the
// node, its mounts, bridges and nftables rules at once. See README.md.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request as httpsRequest } from 'node:https';
import { stringify } from 'yaml';
import { HarnessError, ensureBinaries, ensureBuilt, formatDuration, run, defaultLog } from '../cluster/binaries.ts';
import type { BinaryPaths, RunResult } from '../cluster/binaries.ts';
import { createCA, createSigningKey } from '../cluster/certs.ts';
import type { KeyPairPem } from '../cluster/certs.ts';
import { startWatchdog, trackChild, trackCleanup, trackDir, untrackCleanup, untrackDir } from '../cluster/reaper.ts';
import { cacheDir } from '../cluster/versions.ts';
import { containerdConfig, corefile, cniConfig, initScript, kubeProxyConfig, kubeletConfig, layout } from './config.ts';
import type { Daemon, Layout } from './config.ts';
import { cleanHostSync, connectHost, createCgroupRoot, installPackages, lockMachine, unsupportedReason } from './host.ts';
import { GO_DIR, NET, NODE_BINARIES } from './versions.ts';
import type { NodeBinaryName } from './versions.ts';

export type NodeBinaries = BinaryPaths & Record<NodeBinaryName, string>;

export interface StartNodeOptions {
  /** Image archives (docker-archive or OCI) imported into containerd's k8s.io namespace before the node registers. */
  images?: string[];
  /** The sandbox image (must be among `images`). */
  sandboxImage: string;
  /** Node Ready within this long (default 180 s). */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface CommandOptions {
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface OneNodeCluster extends AsyncDisposable {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly dir: string;
  readonly binaries: NodeBinaries;
  /** Environment for kubectl/helm/meshlet run by hand: KUBECONFIG and Helm/kubectl caches in the node's dir. */
  readonly env: NodeJS.ProcessEnv;
  kubectl(args: string[], options?: CommandOptions): Promise<RunResult>;
  helm(args: string[], options?: CommandOptions): Promise<RunResult>;
  /** Runs a command in the node's network and mount namespaces (tracked; killed on exit). */
  spawnInNode(cmd: string, args: string[], logName: string): ChildProcess;
  importImage(archive: string): Promise<void>;
  logTail(name: string, lines?: number): string;
  stop(): Promise<void>;
}

const NODE_READY_MS = 180_000;

/** Builds (first run) and returns the control-plane and node binaries. */
export async function ensureNodeBinaries(log: (line: string) => void = defaultLog): Promise<NodeBinaries> {
  const control = await ensureBinaries({ log });
  await ensureBuilt(NODE_BINARIES, GO_DIR, cacheDir(), log);
  const out = { ...control } as NodeBinaries;
  for (const spec of NODE_BINARIES) out[spec.name] = join(cacheDir(), spec.name);
  return out;
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

function kubeconfig(server: string, caPem: string, user: string, pair: KeyPairPem): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'meshlet-test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(pair.certPem), 'client-key-data': b64(pair.keyPem) } }],
    contexts: [{ name: 'meshlet-test', context: { cluster: 'meshlet-test', user } }],
    'current-context': 'meshlet-test',
  });
}

function probe(url: string, ca: string, cert: string, key: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ca, cert, key, timeout: 3000, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

class Node implements OneNodeCluster {
  readonly server = `https://${NET.nodeIp}:${NET.apiserverPort}`;
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly binaries: NodeBinaries;
  readonly env: NodeJS.ProcessEnv;
  private readonly l: Layout;
  private readonly log: (line: string) => void;
  private holder: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private initPid = 0;
  private releaseLock: (() => void) | undefined;
  private stopped = false;
  private readonly helpers = new Set<ChildProcess>();
  private readonly cleanup = (): void => {
    cleanHostSync();
    this.releaseLock?.();
  };

  constructor(binaries: NodeBinaries, sandboxImage: string, log: (line: string) => void) {
    this.binaries = binaries;
    this.log = log;
    // Not under /tmp's usual meshlet-k8s- prefix: other harnesses sweep theirs.
    this.dir = mkdtempSync(join(tmpdir(), 'meshlet-node-'));
    // Removed by the reaper too when the process ends without stop() (after the namespaces are killed).
    trackDir(this.dir);
    this.l = layout(this.dir, sandboxImage);
    this.kubeconfigPath = join(this.dir, 'admin.kubeconfig');
    this.env = {
      ...process.env,
      KUBECONFIG: this.kubeconfigPath,
      KUBECACHEDIR: join(this.dir, 'kube-cache'),
      HELM_CACHE_HOME: join(this.dir, 'helm', 'cache'),
      HELM_CONFIG_HOME: join(this.dir, 'helm', 'config'),
      HELM_DATA_HOME: join(this.dir, 'helm', 'data'),
    };
  }

  async boot(images: string[], readyTimeoutMs: number): Promise<void> {
    const started = Date.now();
    this.releaseLock = await lockMachine(this.log);
    trackCleanup(this.cleanup);
    cleanHostSync();
    await this.writeFiles();
    createCgroupRoot();
    this.startNamespaces();
    await this.waitFor('the node namespaces', 20_000, () => existsSync(join(this.dir, 'init.ready')));
    this.initPid = this.childOfHolder();
    connectHost(this.initPid);
    await this.waitApiserver(60_000);
    this.log(`kube-apiserver ready at ${this.server} after ${formatDuration(Date.now() - started)}`);
    await this.waitFor('containerd', 30_000, () => existsSync(this.l.containerdSocket));
    for (const image of images) await this.importImage(image);
    await this.waitNodeReady(readyTimeoutMs);
    this.log(`node ${NET.nodeName} Ready after ${formatDuration(Date.now() - started)} (dir ${this.dir})`);
  }

  private async writeFiles(): Promise<void> {
    const l = this.l;
    for (const d of [l.pki, l.logs, join(this.dir, 'cni'), join(this.dir, 'containerd'), join(this.dir, 'kubelet'), join(this.dir, 'pod-logs')]) mkdirSync(d, { recursive: true });
    const ca = await createCA('meshlet-e2e-ca');
    const serving = await ca.issue({
      commonName: 'kube-apiserver',
      hosts: [NET.nodeIp, NET.kubernetesServiceIp, '127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${NET.clusterDomain}`],
    });
    const client = (cn: string, o?: string): Promise<KeyPairPem> => ca.issue({ commonName: cn, ...(o !== undefined ? { organization: o } : {}), client: true });
    const admin = await client('meshlet-admin', 'system:masters');
    const kubeletServing = await ca.issue({ commonName: NET.nodeName, hosts: [NET.nodeIp, NET.nodeName] });
    const sa = createSigningKey();
    const files: Record<string, string> = {
      'ca.crt': ca.certPem,
      'ca.key': ca.keyPem,
      'apiserver.crt': serving.certPem,
      'apiserver.key': serving.keyPem,
      'kubelet.crt': kubeletServing.certPem,
      'kubelet.key': kubeletServing.keyPem,
      'sa.key': sa.privatePem,
      'sa.pub': sa.publicPem,
    };
    const apiserverClient = await client('kube-apiserver-kubelet-client', 'system:masters');
    files['apiserver-kubelet-client.crt'] = apiserverClient.certPem;
    files['apiserver-kubelet-client.key'] = apiserverClient.keyPem;
    for (const [name, content] of Object.entries(files)) writeFileSync(join(l.pki, name), content, { mode: 0o600 });

    const kc = (name: string, user: string, pair: KeyPairPem): void => writeFileSync(join(this.dir, `${name}.kubeconfig`), kubeconfig(this.server, ca.certPem, user, pair), { mode: 0o600 });
    kc('admin', 'meshlet-admin', admin);
    kc('kubelet', `system:node:${NET.nodeName}`, await client(`system:node:${NET.nodeName}`, 'system:nodes'));
    kc('kube-controller-manager', 'system:kube-controller-manager', await client('system:kube-controller-manager'));
    kc('kube-scheduler', 'system:kube-scheduler', await client('system:kube-scheduler'));
    kc('kube-proxy', 'system:kube-proxy', await client('system:kube-proxy'));

    writeFileSync(join(this.dir, 'containerd.toml'), containerdConfig(l));
    writeFileSync(join(this.dir, 'cni', '10-meshlet-e2e.conflist'), cniConfig(l));
    writeFileSync(join(this.dir, 'kubelet.yaml'), kubeletConfig(l));
    writeFileSync(join(this.dir, 'kube-proxy.yaml'), kubeProxyConfig(l));
    writeFileSync(join(this.dir, 'Corefile'), corefile(l));
    writeFileSync(join(this.dir, 'resolv.conf'), `nameserver ${NET.nodeIp}\n`);
    writeFileSync(join(this.dir, 'init.sh'), initScript(l, this.daemons()), { mode: 0o755 });
  }

  private daemons(): Daemon[] {
    const b = this.binaries;
    const d = this.dir;
    const pki = this.l.pki;
    return [
      {
        name: 'etcd',
        argv: [b.etcd, '--name=default', `--data-dir=${d}/etcd`, '--listen-client-urls=http://127.0.0.1:2379', '--advertise-client-urls=http://127.0.0.1:2379',
          '--listen-peer-urls=http://127.0.0.1:2380', '--initial-advertise-peer-urls=http://127.0.0.1:2380', '--initial-cluster=default=http://127.0.0.1:2380',
          '--unsafe-no-fsync', '--log-level=warn'],
      },
      {
        name: 'kube-apiserver',
        argv: [b.kubeApiserver, `--bind-address=${NET.nodeIp}`, `--advertise-address=${NET.nodeIp}`, `--secure-port=${NET.apiserverPort}`, `--cert-dir=${pki}`,
          `--tls-cert-file=${pki}/apiserver.crt`, `--tls-private-key-file=${pki}/apiserver.key`, `--client-ca-file=${pki}/ca.crt`,
          '--etcd-servers=http://127.0.0.1:2379', `--service-cluster-ip-range=${NET.serviceCidr}`, '--allow-privileged=true',
          // What a real node needs (test/cluster has none of these): the Node authorizer and
          // NodeRestriction for the kubelet, ServiceAccount admission (on by default) for pods.
          '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
          `--service-account-issuer=https://kubernetes.default.svc.${NET.clusterDomain}`, `--service-account-key-file=${pki}/sa.pub`, `--service-account-signing-key-file=${pki}/sa.key`,
          `--kubelet-client-certificate=${pki}/apiserver-kubelet-client.crt`, `--kubelet-client-key=${pki}/apiserver-kubelet-client.key`,
          // The node by its IP: its name would go through the host's resolver.
          '--kubelet-preferred-address-types=InternalIP',
          // Webhooks (the operator's injector) are called at the pod IP behind their Service.
          '--enable-aggregator-routing=true', '--profiling=false'],
      },
      {
        name: 'kube-controller-manager',
        argv: [b['kube-controller-manager'], `--kubeconfig=${d}/kube-controller-manager.kubeconfig`, `--authentication-kubeconfig=${d}/kube-controller-manager.kubeconfig`,
          `--authorization-kubeconfig=${d}/kube-controller-manager.kubeconfig`, '--bind-address=127.0.0.1', '--secure-port=10257', '--leader-elect=false',
          `--service-account-private-key-file=${pki}/sa.key`, `--root-ca-file=${pki}/ca.crt`, '--use-service-account-credentials=true',
          `--cluster-signing-cert-file=${pki}/ca.crt`, `--cluster-signing-key-file=${pki}/ca.key`, `--service-cluster-ip-range=${NET.serviceCidr}`, '--profiling=false'],
      },
      {
        name: 'kube-scheduler',
        argv: [b['kube-scheduler'], `--kubeconfig=${d}/kube-scheduler.kubeconfig`, `--authentication-kubeconfig=${d}/kube-scheduler.kubeconfig`,
          `--authorization-kubeconfig=${d}/kube-scheduler.kubeconfig`, '--bind-address=127.0.0.1', '--secure-port=10259', '--leader-elect=false', '--profiling=false'],
      },
      { name: 'containerd', argv: ['containerd', `--config=${d}/containerd.toml`] },
      {
        name: 'kubelet',
        argv: [b.kubelet, `--config=${d}/kubelet.yaml`, `--kubeconfig=${d}/kubelet.kubeconfig`, `--root-dir=${d}/kubelet`, `--hostname-override=${NET.nodeName}`, `--node-ip=${NET.nodeIp}`, '--v=1'],
      },
      { name: 'kube-proxy', argv: [b['kube-proxy'], `--config=${d}/kube-proxy.yaml`] },
      { name: 'coredns', argv: [b.coredns, `-conf=${d}/Corefile`] },
    ];
  }

  /**
   * unshare: new PID (PID 1 = the init script), mount (private propagation) and network
   * namespaces. --kill-child: when unshare dies, even by SIGKILL, PID 1 is killed, and with it
   * the whole PID namespace. A watchdog kills unshare when the test process dies.
   */
  private startNamespaces(): void {
    const out = join(this.l.logs, 'init.log');
    writeFileSync(out, '');
    const holder = spawn('unshare', ['--pid', '--fork', '--kill-child=SIGKILL', '--mount-proc', '--mount', '--propagation', 'private', '--net', '--', 'bash', join(this.dir, 'init.sh')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    trackChild(holder);
    holder.unref();
    holder.on('error', () => {});
    let stderr = '';
    holder.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
    (holder.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    holder.once('exit', (code, signal) => {
      if (!this.stopped) this.log(`node namespaces ended unexpectedly (${signal ?? `exit ${code}`}): ${stderr.trim()}`);
    });
    this.holder = holder;
    if (holder.pid !== undefined) this.watchdog = startWatchdog(holder.pid);
  }

  /** The init script's PID on the host (unshare's only child). */
  private childOfHolder(): number {
    const pid = this.holder?.pid;
    if (pid === undefined) throw new HarnessError('unshare did not start');
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const child = children[0];
    if (child === undefined) throw new HarnessError(`unshare (pid ${pid}) has no child: ${this.logTail('init')}`);
    return child;
  }

  private async waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (this.holder?.exitCode !== null || this.holder.signalCode !== null) throw new HarnessError(`the node's namespaces ended while waiting for ${what}`);
      if (Date.now() > deadline) throw new HarnessError(`${what} not ready within ${formatDuration(timeoutMs)}`);
      await sleep(250);
    }
  }

  private async waitApiserver(timeoutMs: number): Promise<void> {
    const pki = this.l.pki;
    const ca = readFileSync(join(pki, 'ca.crt'), 'utf8');
    const cert = readFileSync(join(pki, 'apiserver-kubelet-client.crt'), 'utf8');
    const key = readFileSync(join(pki, 'apiserver-kubelet-client.key'), 'utf8');
    try {
      await this.waitFor('kube-apiserver', timeoutMs, async () => (await probe(`${this.server}/readyz`, ca, cert, key)) === 200);
    } catch (err) {
      throw new HarnessError(`${(err as Error).message}\n--- kube-apiserver log:\n${this.logTail('kube-apiserver', 30)}\n--- etcd log:\n${this.logTail('etcd', 10)}`);
    }
  }

  private async waitNodeReady(timeoutMs: number): Promise<void> {
    let last = '';
    try {
      await this.waitFor(`node ${NET.nodeName} Ready`, timeoutMs, async () => {
        const r = await this.kubectl(['get', 'node', NET.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}']);
        last = r.code === 0 ? r.stdout : r.stderr.trim();
        if (process.env.MESHLET_NODE_DEBUG === '1') this.log(`node check: ${last}`);
        if (!r.stdout.startsWith('True')) return false;
        // Pods need the namespace's default ServiceAccount (the controller-manager makes it).
        const sa = await this.kubectl(['-n', 'default', 'get', 'serviceaccount', 'default', '-o', 'name']);
        return sa.code === 0;
      });
    } catch (err) {
      throw new HarnessError(`${(err as Error).message} (last: ${last})\n--- kubelet log:\n${this.logTail('kubelet', 40)}\n--- containerd log:\n${this.logTail('containerd', 15)}`);
    }
  }

  async importImage(archive: string): Promise<void> {
    const started = Date.now();
    const r = await run('ctr', ['--address', this.l.containerdSocket, '-n', 'k8s.io', 'images', 'import', '--no-unpack=false', archive], { timeoutMs: 600_000 });
    if (r.code !== 0) throw new HarnessError(`ctr images import ${archive} failed (exit ${r.code}): ${r.stderr.trim()}`);
    this.log(`imported ${r.stdout.trim().split('\n').map((l) => l.split(' ')[1] ?? l).join(', ') || archive} in ${formatDuration(Date.now() - started)}`);
  }

  spawnInNode(cmd: string, args: string[], logName: string): ChildProcess {
    const out = join(this.l.logs, `${logName}.log`);
    writeFileSync(out, '');
    const child = spawn('nsenter', ['-t', String(this.initPid), '-n', '-m', '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    child.on('error', () => {});
    const append = (c: Buffer): void => writeFileSync(out, c, { flag: 'a' });
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.helpers.add(child);
    child.once('exit', () => this.helpers.delete(child));
    return child;
  }

  kubectl(args: string[], options: CommandOptions = {}): Promise<RunResult> {
    return run(this.binaries.kubectl, args, { env: { ...this.env, ...options.env }, input: options.input, cwd: options.cwd, timeoutMs: options.timeoutMs ?? 120_000 });
  }

  helm(args: string[], options: CommandOptions = {}): Promise<RunResult> {
    return run(this.binaries.helm, args, { env: { ...this.env, ...options.env }, input: options.input, cwd: options.cwd, timeoutMs: options.timeoutMs ?? 300_000 });
  }

  logTail(name: string, lines = 50): string {
    try {
      return readFileSync(join(this.l.logs, `${name}.log`), 'utf8').split('\n').slice(-lines - 1).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const started = Date.now();
    for (const child of this.helpers) child.kill('SIGKILL');
    this.watchdog?.kill('SIGKILL');
    const holder = this.holder;
    if (holder !== undefined && holder.exitCode === null && holder.signalCode === null) {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
    }
    // PID 1 of the namespace was killed with unshare; wait until it (and so everything in it) is gone.
    if (this.initPid > 0) await this.waitGone(this.initPid, 30_000);
    untrackCleanup(this.cleanup);
    const left = cleanHostSync();
    this.releaseLock?.();
    if (process.env.MESHLET_K8S_KEEP === '1') this.log(`MESHLET_K8S_KEEP=1: leaving ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    untrackDir(this.dir);
    this.log(`node stopped in ${formatDuration(Date.now() - started)}${left.length > 0 ? `; cgroups left: ${left.join(', ')}` : ''}`);
  }

  private async waitGone(pid: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await sleep(100);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Why the node cannot run on this machine (after installing packages), or null. */
export function nodeSkipReason(): string | null {
  return unsupportedReason();
}

/**
 * Brings up the one-node cluster: Debian packages (installed when missing), binaries (built on
 * first use), namespaces, control plane, containerd with `images` imported, kubelet until the
 * node is Ready. Always pair with `await node.stop()`.
 */
export async function startNode(options: StartNodeOptions): Promise<OneNodeCluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[meshlet node] ${line}\n`));
  const reason = unsupportedReason();
  if (reason !== null) throw new HarnessError(reason);
  installPackages(log);
  const binaries = await ensureNodeBinaries(log);
  const node = new Node(binaries, options.sandboxImage, log);
  try {
    await node.boot(options.images ?? [], options.readyTimeoutMs ?? NODE_READY_MS);
  } catch (err) {
    await node.stop();
    throw err;
  }
  return node;
}
