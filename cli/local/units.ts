/**
 * The processes of each local workload (its proxy, then its app once the proxy is ready),
 * started, stopped and replaced as the directory's WorkloadEntries come, go or change.
 */
import { spawnChild, stopChildren, type Child } from './children.ts';
import { humanLogLine } from './log-lines.ts';
import type { NetnsHost } from './netns.ts';
import { PROXY_UID } from './netns.ts';
import { appEnv, type LocalWorkload } from './plan.ts';

export interface UnitOptions {
  bin: string;
  pushUrl: string;
  caFile: string;
  proxyPort: number;
  /** The proxy's inbound listener on its address (meshed endpoints point here). */
  inboundPort: number;
  /** Token file of a workload identity (the proxy gets its cert and config with it). */
  tokenFile: (namespace: string, serviceAccount: string) => string;
  apps: boolean;
  logLevel: string;
  seed?: number;
  color: boolean;
  width: number;
  out: NodeJS.WritableStream;
  /** PATH for children: this Node first. */
  path: string;
  graceMs: number;
  say: (s: string) => void;
  /** --netns: each workload in its own namespace with iptables capture (root). */
  netns?: { host: NetnsHost; serviceNames: () => string[] };
}

interface Unit {
  spec: string;
  workload: LocalWorkload;
  children: Child[];
}

/** Polls `url` until it answers 2xx (and `accept(body)` holds), the child exits, or time runs out. */
async function waitReady(url: string, timeoutMs: number, exited: Promise<unknown>, accept: (body: string) => boolean = () => true): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gone) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      const body = await res.text();
      if (res.ok && accept(body)) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export const unitKey = (w: LocalWorkload): string => `${w.namespace}/${w.name}`;

export class LocalUnits {
  readonly #o: UnitOptions;
  readonly #units = new Map<string, Unit>();
  #stopping = false;
  readonly #starting = new Set<Promise<void>>();

  constructor(o: UnitOptions) {
    this.#o = o;
  }

  /** Every running child (proxies first), for callers that want to inspect them. */
  children(): Child[] {
    return [...this.#units.values()].flatMap((u) => u.children);
  }

  #spawn(u: Unit, name: string, command: string, args: string[], shell: boolean, env: NodeJS.ProcessEnv, cwd?: string): Child {
    const o = this.#o;
    const c = spawnChild({ name, command, args, shell, env, ...(cwd === undefined ? {} : { cwd }), out: o.out, color: o.color, ...(shell ? {} : { format: humanLogLine }) }, o.width);
    u.children.push(c);
    // A child that dies on its own is worth a line: the user sees which one and why.
    void c.exited.then((code) => {
      if (!this.#stopping && this.#units.get(unitKey(u.workload)) === u && u.children.includes(c)) o.say(`${name} exited${code === null ? '' : ` with code ${code}`} (the rest keeps running)`);
    });
    return c;
  }

  async #start(w: LocalWorkload): Promise<void> {
    // A reconcile that was under way when stop() began must not start anything.
    if (this.#stopping) return;
    const o = this.#o;
    const u: Unit = { spec: JSON.stringify(w), workload: w, children: [] };
    this.#units.set(unitKey(w), u);
    const env = { ...process.env, PATH: o.path, MESHLET_LOG_LEVEL: o.logLevel };
    const nsx = o.netns;
    const wns = nsx?.host.add(unitKey(w), w.address, w.proxied ? { tokenFile: o.tokenFile(w.namespace, w.serviceAccount), caFile: o.caFile } : undefined, nsx.serviceNames(), o.bin);
    if (w.proxied) {
      // Local: explicit proxy on the workload's own loopback address. --netns: real capture, Pod-like.
      const where = wns === undefined
        ? ['--ca-file', o.caFile, '--token-file', o.tokenFile(w.namespace, w.serviceAccount), '--bind', w.address, '--outbound-port', String(o.proxyPort), '--inbound-port', String(o.inboundPort), '--app-host', w.address]
        : ['--ca-file', wns.caFile, '--token-file', wns.tokenFile, '--bind', '0.0.0.0', '--app-host', '127.0.0.1'];
      const args = [o.bin, 'proxy', '--operator', o.pushUrl, '--pod', w.name, '--namespace', w.namespace, '--service-account', w.serviceAccount,
        '--pod-ip', w.address, '--admin-address', w.address, ...where, '--inbound-source', '127.0.0.6', '--log-level', o.logLevel, '--backoff-base-ms', '200'];
      if (o.seed !== undefined) args.push('--seed', String(o.seed));
      const proxy = wns === undefined
        ? this.#spawn(u, `${w.name}~proxy`, process.execPath, args, false, env)
        : this.#spawn(u, `${w.name}~proxy`, 'ip', ['netns', 'exec', wns.ns, 'setpriv', '--reuid', String(PROXY_UID), '--regid', String(PROXY_UID), '--clear-groups', process.execPath, ...args], false, env);
      // Ready = config applied and a workload cert in hand (else its first STRICT peers would be refused).
      const ready = (await waitReady(`http://${w.address}:15021/healthz/ready`, 20_000, proxy.exited))
        && (await waitReady(`http://${w.address}:15000/certs`, 20_000, proxy.exited, (b) => b.includes(`/ns/${w.namespace}/sa/${w.serviceAccount}`)));
      const how = wns === undefined ? `explicit proxy http://${w.address}:${o.proxyPort}, inbound ${w.address}:${o.inboundPort}` : `network namespace ${wns.ns}, iptables capture, uid ${PROXY_UID}`;
      o.say(ready ? `proxy ${w.name}.${w.namespace} ready on ${w.address} (${how}, admin http://${w.address}:15000)` : `proxy ${w.name}.${w.namespace} did not become ready on ${w.address}`);
    }
    if (this.#stopping) {
      await stopChildren(u.children, o.graceMs);
      nsx?.host.remove(unitKey(w));
      return;
    }
    if (o.apps && w.command !== undefined && this.#units.get(unitKey(w)) === u) {
      if (wns === undefined) this.#spawn(u, w.name, w.command, [], true, { ...env, ...appEnv(w, o.proxyPort) }, w.cwd);
      else {
        // Captured: no HTTP_PROXY; listens on all of its namespace's addresses, like a container.
        const appVars = appEnv({ ...w, proxied: false }, o.proxyPort);
        this.#spawn(u, w.name, 'ip', ['netns', 'exec', wns.ns, 'sh', '-c', w.command], false, { ...env, ...appVars, BIND_ADDRESS: '0.0.0.0', HTTP_PROXY: '', http_proxy: '' }, w.cwd);
      }
    }
  }

  async #stopUnit(key: string): Promise<void> {
    const u = this.#units.get(key);
    if (u === undefined) return;
    this.#units.delete(key);
    await stopChildren([...u.children].reverse(), this.#o.graceMs);
    this.#o.netns?.host.remove(key);
  }

  /** Starts new workloads, stops removed ones, restarts changed ones. */
  async reconcile(workloads: readonly LocalWorkload[], initial = false): Promise<void> {
    if (this.#stopping) return;
    const want = new Map(workloads.map((w) => [unitKey(w), w]));
    const changed: string[] = [];
    for (const [key, u] of this.#units) {
      const w = want.get(key);
      if (w === undefined || JSON.stringify(w) !== u.spec) changed.push(key);
    }
    for (const key of changed) {
      if (!initial) this.#o.say(`${want.has(key) ? 'restarting' : 'stopping'} ${key} (its WorkloadEntry ${want.has(key) ? 'changed' : 'is gone'})`);
      await this.#stopUnit(key);
    }
    if (this.#stopping) return;
    const starts = [...want.values()].filter((w) => !this.#units.has(unitKey(w)));
    if (!initial) for (const w of starts) if (!changed.includes(unitKey(w))) this.#o.say(`starting ${unitKey(w)} (new WorkloadEntry)`);
    await Promise.all(starts.map((w) => {
      const p = this.#start(w).finally(() => this.#starting.delete(p));
      this.#starting.add(p);
      return p;
    }));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const all = [...this.#units.values()];
    this.#units.clear();
    // Apps first, then proxies (each unit lists its proxy first).
    await stopChildren([...all.flatMap((u) => u.children.slice(1)), ...all.map((u) => u.children[0]).filter((c): c is Child => c !== undefined)], this.#o.graceMs);
    // Starts under way stop what they started once they see #stopping.
    await Promise.allSettled([...this.#starting]);
    for (const u of all) this.#o.netns?.host.remove(unitKey(u.workload));
  }
}
