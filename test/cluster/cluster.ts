// A real control plane for tests: etcd + kube-apiserver on loopback, with the
// pinned kubectl and helm. See README.md for the API and the lifecycle choice.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
} from '@kubernetes/client-node';
import type { V1CustomResourceDefinition, V1LabelSelector, V1RuleWithOperations } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { HarnessError, cachedBinaries, defaultLog, ensureBinaries, formatDuration, run } from './binaries.ts';
import type { BinaryPaths, RunResult } from './binaries.ts';
import { createCA, createSigningKey } from './certs.ts';
import type { CertificateAuthority, KeyPairPem } from './certs.ts';
import { startWatchdog, trackChild, trackDir, untrackDir } from './reaper.ts';

export type { BinaryPaths, RunResult };
export { HarnessError, cachedBinaries, ensureBinaries };

export interface StartClusterOptions {
  /** CRD manifests (files, directories of .yaml/.yml/.json, or objects) to install and wait for. */
  crds?: Array<string | object>;
  /** How long kube-apiserver may take to report /readyz ok. Default 60 s (env MESHLET_K8S_READY_TIMEOUT_MS). */
  readyTimeoutMs?: number;
  /** Try this apiserver port first; if it is taken another free port is used. */
  apiserverPort?: number;
  /** Extra kube-apiserver flags (`--name=value`), appended after the defaults. */
  apiserverArgs?: string[];
  /** Progress lines; default stderr. Pass `() => {}` to silence. */
  log?: (line: string) => void;
}

export interface CommandOptions {
  /** Written to the command's stdin. */
  input?: string;
  /** Use this kubeconfig instead of the admin one (e.g. a ServiceAccount's). */
  kubeconfig?: string;
  /** Kill the command after this long. Default 120 s. */
  timeoutMs?: number;
  cwd?: string;
}

export interface ServiceAccountKubeconfig {
  path: string;
  token: string;
  kubeConfig(): KubeConfig;
}

export interface TokenOptions {
  /** Default: the apiserver's own audience, so the token works against it. */
  audiences?: string[];
  expirationSeconds?: number;
}

export interface WebhookOptions {
  type: 'Mutating' | 'Validating';
  /** Name of the *WebhookConfiguration object. */
  name: string;
  /** Local port of the webhook's HTTPS server (URL https://127.0.0.1:<port><path>). */
  port: number;
  path: string;
  /** PEM CA bundle that signed the webhook's serving cert (see issueServingCert). */
  caBundlePem: string;
  rules: V1RuleWithOperations[];
  /** Webhook entry name; must be a domain with ≥3 labels. Default `<name>.meshlet.test`. */
  webhookName?: string;
  failurePolicy?: 'Fail' | 'Ignore';
  sideEffects?: 'None' | 'NoneOnDryRun';
  namespaceSelector?: V1LabelSelector;
  objectSelector?: V1LabelSelector;
  timeoutSeconds?: number;
  reinvocationPolicy?: 'Never' | 'IfNeeded';
}

export interface Cluster extends AsyncDisposable {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly port: number;
  /** Admin kubeconfig (client cert in system:masters). */
  readonly kubeconfigPath: string;
  /** Temp dir holding certs, logs, kubeconfigs; removed by stop(). */
  readonly dir: string;
  readonly binaries: BinaryPaths;
  /** CA that signed the apiserver's cert and client certs (the apiserver's --client-ca-file). */
  readonly caCertPem: string;
  /** A fresh KubeConfig for the admin user. */
  kubeConfig(): KubeConfig;
  kubectl(args: string[], options?: CommandOptions): Promise<RunResult>;
  helm(args: string[], options?: CommandOptions): Promise<RunResult>;
  /** Mints a token for the ServiceAccount (TokenRequest API). */
  requestToken(namespace: string, serviceAccount: string, options?: TokenOptions): Promise<string>;
  /** Creates namespace and ServiceAccount if missing, and writes a kubeconfig authenticating as it. */
  serviceAccountKubeconfig(namespace: string, serviceAccount: string, options?: TokenOptions): Promise<ServiceAccountKubeconfig>;
  /** Installs CRDs and waits until Established and served; returns their names. */
  installCRDs(sources: Array<string | object>, options?: { timeoutMs?: number }): Promise<string[]>;
  waitForCRDs(names: string[], options?: { timeoutMs?: number }): Promise<void>;
  /** A serving cert for a local webhook server, signed by a CA of its own. */
  issueServingCert(hosts?: string[]): Promise<KeyPairPem & { caPem: string }>;
  /** Creates a Mutating/ValidatingWebhookConfiguration calling https://127.0.0.1:<port><path>. */
  registerWebhook(options: WebhookOptions): Promise<{ remove(): Promise<void> }>;
  /** Stops kube-apiserver only (etcd keeps the data). */
  stopApiserver(): Promise<void>;
  /** Starts kube-apiserver again on the same port with the same certs; resolves when ready. */
  startApiserver(): Promise<void>;
  restartApiserver(): Promise<void>;
  /** Last lines of the kube-apiserver log. */
  apiserverLog(lines?: number): string;
  /** Stops everything and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- processes

class ServerProcess {
  readonly name: string;
  readonly logPath: string;
  private readonly bin: string;
  private readonly args: string[];
  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Log size when the current run started: earlier runs' lines must not be misread. */
  private logStart = 0;

  constructor(name: string, bin: string, args: string[], logPath: string) {
    this.name = name;
    this.bin = bin;
    this.args = args;
    this.logPath = logPath;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get exitDescription(): string {
    const c = this.child;
    return c === undefined ? 'not started' : c.signalCode !== null ? `killed by ${c.signalCode}` : `exit code ${c.exitCode}`;
  }

  start(): void {
    // Output straight to a file: no pipe keeps our event loop alive, and the
    // log survives for the failure message.
    const fd = openSync(this.logPath, 'a');
    this.logStart = fstatSync(fd).size;
    try {
      const child = spawn(this.bin, this.args, { stdio: ['ignore', fd, fd], detached: false });
      this.child = child;
      trackChild(child);
      child.on('error', () => {});
      this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
      // A forgotten stop() must not hang the test process; reaper kills on exit.
      child.unref();
      if (child.pid !== undefined) this.watchdog = startWatchdog(child.pid);
    } finally {
      closeSync(fd);
    }
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.watchdog?.kill('SIGKILL');
    this.watchdog = undefined;
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.ref();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  logTail(lines = 50): string {
    try {
      const all = readFileSync(this.logPath, 'utf8').split('\n');
      if (all.at(-1) === '') all.pop();
      return all.length === 0 ? '(log is empty: the process had not written anything yet)' : all.slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  portTaken(): boolean {
    try {
      return /address already in use/i.test(readFileSync(this.logPath).subarray(this.logStart).toString('utf8'));
    } catch {
      return false;
    }
  }
}

/** Whether `port` can be bound on 127.0.0.1 right now (a hint: another process may still race us). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr !== null && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

interface HttpsAuth {
  ca: string;
  cert: string;
  key: string;
}

/** GET returning status (0 on connection error). */
function probe(url: string, auth?: HttpsAuth): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: 'GET', timeout: 5000, agent: false, ...(auth ?? {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', () => resolve({ status: 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end();
  });
}

type WaitOutcome = 'ready' | 'exited' | 'timeout';

async function waitReady(proc: ServerProcess, url: string, auth: HttpsAuth | undefined, timeoutMs: number): Promise<{ outcome: WaitOutcome; last: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no response';
  for (;;) {
    if (!proc.running) return { outcome: 'exited', last };
    const r = await probe(url, auth);
    if (r.status === 200) return { outcome: 'ready', last: r.body };
    last = r.status === 0 ? r.body : `HTTP ${r.status}: ${r.body.trim().split('\n').filter((l) => l.includes('failed')).join('; ') || r.body.trim().slice(0, 300)}`;
    if (Date.now() >= deadline) return { outcome: 'timeout', last };
    await sleep(250);
  }
}

// ---------------------------------------------------------------- cluster

const ETCD_READY_MS = 30_000;
const MAX_PORT_ATTEMPTS = 5;

class LocalCluster implements Cluster {
  server = '';
  port = 0;
  kubeconfigPath = '';
  readonly dir: string;
  readonly binaries: BinaryPaths;
  caCertPem = '';

  private readonly log: (line: string) => void;
  private readonly readyTimeoutMs: number;
  private readonly extraArgs: string[];
  private readonly preferredPort: number | undefined;
  private ca!: CertificateAuthority;
  private admin!: KeyPairPem;
  private etcd: ServerProcess | undefined;
  private apiserver: ServerProcess | undefined;
  private stopped = false;
  private saCount = 0;

  constructor(binaries: BinaryPaths, options: StartClusterOptions) {
    this.binaries = binaries;
    this.log = options.log ?? defaultLog;
    const envTimeout = Number.parseInt(process.env.MESHLET_K8S_READY_TIMEOUT_MS ?? '', 10);
    this.readyTimeoutMs = options.readyTimeoutMs ?? (Number.isFinite(envTimeout) && envTimeout > 0 ? envTimeout : 60_000);
    this.extraArgs = options.apiserverArgs ?? [];
    this.preferredPort = options.apiserverPort;
    this.dir = mkdtempSync(join(tmpdir(), 'meshlet-k8s-'));
    trackDir(this.dir);
  }

  async boot(): Promise<void> {
    const started = Date.now();
    this.ca = await createCA();
    this.caCertPem = this.ca.certPem;
    const serving = await this.ca.issue({ commonName: 'kube-apiserver', hosts: ['127.0.0.1', 'localhost', '::1'] });
    this.admin = await this.ca.issue({ commonName: 'meshlet-admin', organization: 'system:masters', client: true });
    const sa = createSigningKey();
    const pki = join(this.dir, 'pki');
    mkdirSync(pki);
    const files: Record<string, string> = {
      'ca.crt': this.ca.certPem,
      'apiserver.crt': serving.certPem,
      'apiserver.key': serving.keyPem,
      'sa.key': sa.privatePem,
      'sa.pub': sa.publicPem,
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(pki, name), content, { mode: 0o600 });

    const etcdUrl = await this.startEtcd();
    await this.startApiserverWithRetry(etcdUrl);
    this.kubeconfigPath = join(this.dir, 'admin.kubeconfig');
    writeFileSync(
      this.kubeconfigPath,
      kubeconfigYaml(this.server, this.ca.certPem, 'meshlet-admin', {
        'client-certificate-data': b64(this.admin.certPem),
        'client-key-data': b64(this.admin.keyPem),
      }),
      { mode: 0o600 },
    );
    this.log(`kube-apiserver ready at ${this.server} in ${formatDuration(Date.now() - started)} (dir ${this.dir})`);
  }

  private async startEtcd(): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const clientPort = await freePort();
      const peerPort = await freePort();
      const client = `http://127.0.0.1:${clientPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      const dataDir = join(this.dir, `etcd-data-${attempt}`);
      const proc = new ServerProcess('etcd', this.binaries.etcd, [
        '--name=default',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=default=${peer}`,
        // Throwaway data: durability only costs time on a shared disk.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ], join(this.dir, 'etcd.log'));
      proc.start();
      this.etcd = proc;
      const { outcome, last } = await waitReady(proc, `${client}/health`, undefined, ETCD_READY_MS);
      if (outcome === 'ready') return client;
      await proc.stop();
      if (outcome === 'exited' && proc.portTaken() && attempt < MAX_PORT_ATTEMPTS) {
        this.log(`etcd port ${clientPort} or ${peerPort} was taken; retrying on other ports`);
        continue;
      }
      throw new HarnessError(
        outcome === 'exited'
          ? `etcd exited (${proc.exitDescription}) before becoming healthy. Last 50 lines of ${proc.logPath}:\n${proc.logTail(50)}`
          : `etcd did not become healthy within ${ETCD_READY_MS / 1000}s (last: ${last}). Last 50 lines of ${proc.logPath}:\n${proc.logTail(50)}`,
      );
    }
  }

  private apiserverArgs(port: number, etcdUrl: string): string[] {
    const pki = join(this.dir, 'pki');
    return [
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${pki}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--client-ca-file=${join(pki, 'ca.crt')}`,
      `--etcd-servers=${etcdUrl}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--authorization-mode=RBAC',
      // No controller-manager creates ServiceAccount tokens or "default" SAs here.
      '--disable-admission-plugins=ServiceAccount',
      `--service-account-issuer=https://127.0.0.1:${port}`,
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      '--profiling=false',
      ...this.extraArgs,
    ];
  }

  private auth(): HttpsAuth {
    return { ca: this.ca.certPem, cert: this.admin.certPem, key: this.admin.keyPem };
  }

  private async startApiserverWithRetry(etcdUrl: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let port = attempt === 1 && this.preferredPort !== undefined ? this.preferredPort : await freePort();
      if (!(await portFree(port))) {
        this.log(`kube-apiserver port ${port} is taken; retrying on another port`);
        port = await freePort();
      }
      const proc = new ServerProcess('kube-apiserver', this.binaries.kubeApiserver, this.apiserverArgs(port, etcdUrl), join(this.dir, 'kube-apiserver.log'));
      this.apiserver = proc;
      this.port = port;
      this.server = `https://127.0.0.1:${port}`;
      const outcome = await this.launchApiserver(proc);
      if (outcome === 'ready') return;
      if (outcome === 'port-taken' && attempt < MAX_PORT_ATTEMPTS) {
        this.log(`kube-apiserver port ${port} is taken; retrying on another port`);
        continue;
      }
      throw new HarnessError(`kube-apiserver could not listen on a free port after ${attempt} attempts`);
    }
  }

  /** Starts the process and waits for /readyz; throws with the log tail unless ready or port-taken. */
  private async launchApiserver(proc: ServerProcess): Promise<'ready' | 'port-taken'> {
    proc.start();
    const { outcome, last } = await waitReady(proc, `${this.server}/readyz`, this.auth(), this.readyTimeoutMs);
    if (outcome === 'ready') return 'ready';
    await proc.stop();
    if (outcome === 'exited' && proc.portTaken()) return 'port-taken';
    throw new HarnessError(
      (outcome === 'exited'
        ? `kube-apiserver exited (${proc.exitDescription}) before becoming ready.`
        : `kube-apiserver did not become ready within ${formatDuration(this.readyTimeoutMs)} (last /readyz: ${last}).`) +
        ` Last 50 lines of ${proc.logPath}:\n${proc.logTail(50)}`,
    );
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  private commandEnv(kubeconfig: string | undefined): NodeJS.ProcessEnv {
    const helmDir = join(this.dir, 'helm');
    return {
      ...process.env,
      KUBECONFIG: kubeconfig ?? this.kubeconfigPath,
      // Keep discovery caches and Helm state inside the cluster's temp dir.
      KUBECACHEDIR: join(this.dir, 'kube-cache'),
      HELM_CACHE_HOME: join(helmDir, 'cache'),
      HELM_CONFIG_HOME: join(helmDir, 'config'),
      HELM_DATA_HOME: join(helmDir, 'data'),
    };
  }

  kubectl(args: string[], options: CommandOptions = {}): Promise<RunResult> {
    return run(this.binaries.kubectl, args, {
      env: this.commandEnv(options.kubeconfig),
      input: options.input,
      cwd: options.cwd,
      timeoutMs: options.timeoutMs ?? 120_000,
    });
  }

  helm(args: string[], options: CommandOptions = {}): Promise<RunResult> {
    return run(this.binaries.helm, args, {
      env: this.commandEnv(options.kubeconfig),
      input: options.input,
      cwd: options.cwd,
      timeoutMs: options.timeoutMs ?? 120_000,
    });
  }

  async requestToken(namespace: string, serviceAccount: string, options: TokenOptions = {}): Promise<string> {
    const core = this.kubeConfig().makeApiClient(CoreV1Api);
    const res = await core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: {
        spec: {
          audiences: options.audiences ?? [],
          expirationSeconds: options.expirationSeconds ?? 3600,
        },
      },
    });
    const token = res.status?.token;
    if (token === undefined || token === '') throw new HarnessError(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    return token;
  }

  async serviceAccountKubeconfig(namespace: string, serviceAccount: string, options: TokenOptions = {}): Promise<ServiceAccountKubeconfig> {
    const core = this.kubeConfig().makeApiClient(CoreV1Api);
    await ignoreConflict(core.createNamespace({ body: { metadata: { name: namespace } } }));
    await ignoreConflict(core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } }));
    const token = await this.requestToken(namespace, serviceAccount, options);
    const path = join(this.dir, `sa-${++this.saCount}-${namespace}-${serviceAccount}.kubeconfig`);
    writeFileSync(path, kubeconfigYaml(this.server, this.ca.certPem, `system:serviceaccount:${namespace}:${serviceAccount}`, { token }, namespace), {
      mode: 0o600,
    });
    return {
      path,
      token,
      kubeConfig: () => {
        const kc = new KubeConfig();
        kc.loadFromFile(path);
        return kc;
      },
    };
  }

  async installCRDs(sources: Array<string | object>, options: { timeoutMs?: number } = {}): Promise<string[]> {
    const crds = loadCRDs(sources);
    if (crds.length === 0) throw new HarnessError(`no CustomResourceDefinition found in ${JSON.stringify(sources)}`);
    const file = join(this.dir, `crds-${Date.now()}.yaml`);
    writeFileSync(file, crds.map((c) => stringify(c)).join('---\n'));
    // Server-side apply: big CRD schemas overflow client-side apply's annotation.
    const r = await this.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=meshlet-test', '-f', file]);
    if (r.code !== 0) throw new HarnessError(`kubectl apply of CRDs failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
    const names = crds.map((c) => c.metadata?.name ?? '');
    await this.waitForCRDs(names, options);
    return names;
  }

  async waitForCRDs(names: string[], options: { timeoutMs?: number } = {}): Promise<void> {
    const kc = this.kubeConfig();
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (const name of names) {
      let state: string;
      for (;;) {
        try {
          const crd = await ext.readCustomResourceDefinition({ name });
          const cond = (type: string): boolean => crd.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
          if (cond('Established') && cond('NamesAccepted') && (await this.served(crd))) break;
          state = JSON.stringify(crd.status?.conditions?.map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ''}`) ?? []);
        } catch (err) {
          state = err instanceof Error ? err.message : String(err);
        }
        if (Date.now() > deadline) throw new HarnessError(`CRD ${name} not Established in time; last state: ${state}`);
        await sleep(200);
      }
    }
  }

  /** Established can precede discovery by a moment; clients (kubectl) need discovery. */
  private async served(crd: V1CustomResourceDefinition): Promise<boolean> {
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      const r = await probe(`${this.server}/apis/${crd.spec.group}/${version.name}`, this.auth());
      if (r.status !== 200) return false;
      const list = JSON.parse(r.body) as { resources?: Array<{ name: string }> };
      if (!(list.resources ?? []).some((res) => res.name === crd.spec.names.plural)) return false;
    }
    return true;
  }

  async issueServingCert(hosts: string[] = ['127.0.0.1', 'localhost']): Promise<KeyPairPem & { caPem: string }> {
    const ca = await createCA('meshlet-test-webhook-ca');
    const leaf = await ca.issue({ commonName: hosts[0] ?? 'localhost', hosts });
    return { ...leaf, caPem: ca.certPem };
  }

  async registerWebhook(options: WebhookOptions): Promise<{ remove(): Promise<void> }> {
    const api = this.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    const webhook = {
      name: options.webhookName ?? `${options.name}.meshlet.test`,
      clientConfig: { url: `https://127.0.0.1:${options.port}${options.path}`, caBundle: b64(options.caBundlePem) },
      rules: options.rules,
      failurePolicy: options.failurePolicy ?? 'Fail',
      sideEffects: options.sideEffects ?? 'None',
      admissionReviewVersions: ['v1'],
      namespaceSelector: options.namespaceSelector,
      objectSelector: options.objectSelector,
      timeoutSeconds: options.timeoutSeconds ?? 10,
    };
    const metadata = { name: options.name };
    if (options.type === 'Mutating') {
      await api.createMutatingWebhookConfiguration({
        body: { metadata, webhooks: [{ ...webhook, reinvocationPolicy: options.reinvocationPolicy ?? 'Never' }] },
      });
      return { remove: async () => void (await api.deleteMutatingWebhookConfiguration({ name: options.name })) };
    }
    await api.createValidatingWebhookConfiguration({ body: { metadata, webhooks: [webhook] } });
    return { remove: async () => void (await api.deleteValidatingWebhookConfiguration({ name: options.name })) };
  }

  async stopApiserver(): Promise<void> {
    await this.apiserver?.stop();
  }

  async startApiserver(): Promise<void> {
    const proc = this.apiserver;
    if (proc === undefined || this.stopped) throw new HarnessError('cluster is stopped');
    if (proc.running) return;
    const outcome = await this.launchApiserver(proc);
    if (outcome === 'port-taken') {
      throw new HarnessError(`cannot restart kube-apiserver: port ${this.port} was taken by another process meanwhile`);
    }
  }

  async restartApiserver(): Promise<void> {
    await this.stopApiserver();
    await this.startApiserver();
  }

  apiserverLog(lines = 50): string {
    return this.apiserver?.logTail(lines) ?? '';
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // apiserver first: it would otherwise log etcd connection errors while dying.
    await this.apiserver?.stop();
    await this.etcd?.stop();
    if (process.env.MESHLET_K8S_KEEP === '1') {
      this.log(`MESHLET_K8S_KEEP=1: leaving ${this.dir}`);
    } else {
      rmSync(this.dir, { recursive: true, force: true });
    }
    untrackDir(this.dir);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

function kubeconfigYaml(server: string, caPem: string, user: string, credentials: Record<string, string>, namespace?: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'meshlet-test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: user, user: credentials }],
    contexts: [{ name: 'meshlet-test', context: { cluster: 'meshlet-test', user, ...(namespace !== undefined ? { namespace } : {}) } }],
    'current-context': 'meshlet-test',
    preferences: {},
  });
}

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

function manifestFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)))
    .sort()
    .map((f) => join(path, f));
}

function loadCRDs(sources: Array<string | object>): V1CustomResourceDefinition[] {
  const out: V1CustomResourceDefinition[] = [];
  for (const source of sources) {
    const objects: unknown[] =
      typeof source === 'string'
        ? manifestFiles(source).flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as unknown))
        : [source];
    for (const obj of objects) {
      const o = obj as { kind?: string; items?: unknown[] } | null;
      if (o?.kind === 'CustomResourceDefinition') out.push(o as V1CustomResourceDefinition);
      else if (o?.kind === 'List' && Array.isArray(o.items)) out.push(...loadCRDs(o.items as object[]));
    }
  }
  return out;
}

/**
 * Starts etcd + kube-apiserver (building the binaries first if the cache is
 * cold) and optionally installs CRDs. Always pair with `await cluster.stop()`
 * (or `await using cluster = await startCluster()`).
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const binaries = await ensureBinaries({ log: options.log });
  const cluster = new LocalCluster(binaries, options);
  try {
    await cluster.boot();
    if (options.crds !== undefined && options.crds.length > 0) await cluster.installCRDs(options.crds);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
