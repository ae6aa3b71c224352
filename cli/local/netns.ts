/**
 * `meshlet local --netns` (root): each workload in its own network namespace, joined to a
 * bridge in the root namespace (gateway 198.18.0.1/15, where the operator listens), with
 * `meshlet init-iptables` capture inside, the proxy as uid 1337 and the app without
 * HTTP_PROXY. Service names resolve through /etc/netns/<ns>/hosts (bind-mounted on
 * /etc/hosts by `ip netns exec`) to one virtual address that the capture sends to the
 * proxy; the Host header then picks the service. Everything is removed on close(), and a
 * process 'exit' hook removes what is left if the command dies without closing.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NETNS_GATEWAY = '198.18.0.1';
export const NETNS_PREFIX = 15;
/** Where service names resolve inside a namespace; captured before it is ever routed. */
export const NETNS_SERVICE_VIP = '198.19.255.254';
export const PROXY_UID = 1337;

export function inNetnsRange(ip: string): boolean {
  return /^198\.(18|19)\.\d{1,3}\.\d{1,3}$/.test(ip) && ip !== NETNS_GATEWAY && ip !== NETNS_SERVICE_VIP;
}

/** Why --netns cannot run here, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return '--netns needs root (network namespaces, veth pairs, iptables)';
  for (const b of ['ip', 'iptables', 'setpriv']) if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return `--netns needs ${b} (apt-get install -y iproute2 iptables util-linux)`;
  return undefined;
}

function sh(...argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${(r.stderr || r.stdout || `exit ${r.status}`).trim()}`);
}

export interface WorkloadNs {
  ns: string;
  /** Token and operator CA copied where uid 1337 can read them. */
  tokenFile: string;
  caFile: string;
}

export class NetnsHost {
  readonly bridge: string;
  readonly #tag: string;
  readonly #stateDir: string;
  readonly #namespaces = new Map<string, string>();
  #count = 0;
  #closed = false;
  readonly #onExit = (): void => this.close();

  constructor(stateDir: string) {
    this.#stateDir = stateDir;
    this.#tag = String(process.pid % 100_000);
    this.bridge = `mlbr${this.#tag}`;
  }

  /** The bridge and its gateway address (the operator listens there). */
  open(): void {
    process.once('exit', this.#onExit);
    sh('ip', 'link', 'add', this.bridge, 'type', 'bridge');
    sh('ip', 'addr', 'add', `${NETNS_GATEWAY}/${NETNS_PREFIX}`, 'dev', this.bridge);
    sh('ip', 'link', 'set', this.bridge, 'up');
  }

  /** Namespace, veth into the bridge, address, hosts file, capture rules; files for uid 1337. */
  add(key: string, address: string, proxy: { tokenFile: string; caFile: string } | undefined, serviceNames: readonly string[], bin: string): WorkloadNs {
    this.remove(key);
    const i = this.#count++;
    const ns = `meshlet-${this.#tag}-${i}`;
    const host = `mlv${this.#tag}h${i}`.slice(0, 15);
    const peer = `mlv${this.#tag}p${i}`.slice(0, 15);
    this.#namespaces.set(key, ns);
    sh('ip', 'netns', 'add', ns);
    sh('ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
    sh('ip', 'link', 'set', peer, 'netns', ns);
    sh('ip', 'link', 'set', host, 'master', this.bridge, 'up');
    sh('ip', '-n', ns, 'link', 'set', peer, 'name', 'eth0');
    sh('ip', '-n', ns, 'addr', 'add', `${address}/${NETNS_PREFIX}`, 'dev', 'eth0');
    sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    mkdirSync(join('/etc/netns', ns), { recursive: true });
    writeFileSync(join('/etc/netns', ns, 'hosts'), `127.0.0.1 localhost\n${address} ${key.split('/')[1] ?? ns}\n${serviceNames.map((n) => `${NETNS_SERVICE_VIP} ${n}`).join('\n')}\n`);
    if (proxy === undefined) return { ns, tokenFile: '', caFile: '' };
    sh('ip', 'netns', 'exec', ns, process.execPath, bin, 'init-iptables', '--proxy-uid', String(PROXY_UID), '--proxy-gid', String(PROXY_UID));
    // uid 1337 may pass through the private state dir (not list it) to its own 0700 folder.
    chmodSync(this.#stateDir, 0o711);
    mkdirSync(join(this.#stateDir, 'netns'), { recursive: true, mode: 0o711 });
    const dir = join(this.#stateDir, 'netns', ns);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = { tokenFile: join(dir, 'token'), caFile: join(dir, 'operator-ca.pem') };
    copyFileSync(proxy.tokenFile, files.tokenFile);
    copyFileSync(proxy.caFile, files.caFile);
    for (const p of [dir, files.tokenFile, files.caFile]) chownSync(p, PROXY_UID, PROXY_UID);
    return { ns, ...files };
  }

  remove(key: string): void {
    const ns = this.#namespaces.get(key);
    if (ns === undefined) return;
    this.#namespaces.delete(key);
    // Deleting the namespace deletes its veth pair too.
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(join('/etc/netns', ns), { recursive: true, force: true });
  }

  /** Synchronous, so it also runs from a process 'exit' hook. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    process.removeListener('exit', this.#onExit);
    for (const key of [...this.#namespaces.keys()]) this.remove(key);
    spawnSync('ip', ['link', 'del', this.bridge]);
  }
}

/** Every name a Service answers to inside the mesh. */
export function serviceNames(services: readonly { name: string; namespace: string }[]): string[] {
  return services.flatMap((s) => [s.name, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.cluster.local`]);
}
