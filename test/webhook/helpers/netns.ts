/**
 * Two network namespaces joined by a veth pair, for the capture tests: `pod` (198.18.0.1/24,
 * default route via the peer) and `peer` (198.18.0.2 and 198.18.0.3). Created by the test,
 * removed by `destroy()` even when the test fails. Needs root and iptables.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const AGENT = join(fileURLToPath(new URL('.', import.meta.url)), 'net-agent.ts');
export const MESHLET_BIN = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'meshlet');
export const POD_IP = '198.18.0.1';
export const PEER_IP = '198.18.0.2';
export const PEER_IP2 = '198.18.0.3';

/** Why the netns tests cannot run here, or null when they can. */
export function netnsSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (creates network namespaces and nat rules)';
  for (const bin of ['/usr/sbin/iptables', '/usr/sbin/iptables-restore', '/usr/sbin/iptables-save', '/usr/sbin/ip', '/usr/bin/setpriv', '/usr/bin/unshare']) {
    if (!existsSync(bin)) return `${bin} is not installed (apt-get install -y iptables iproute2)`;
  }
  return null;
}

function sh(args: string[]): string {
  return execFileSync(args[0] as string, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class NetnsPair {
  readonly pod: string;
  readonly peer: string;
  private readonly children: ChildProcess[] = [];

  constructor() {
    const id = randomBytes(3).toString('hex');
    this.pod = `meshlet-test-${id}-pod`;
    this.peer = `meshlet-test-${id}-peer`;
  }

  setup(): void {
    const vp = `mlp${this.pod.slice(13, 19)}`;
    const vq = `mlq${this.pod.slice(13, 19)}`;
    sh(['ip', 'netns', 'add', this.pod]);
    sh(['ip', 'netns', 'add', this.peer]);
    sh(['ip', 'link', 'add', vp, 'netns', this.pod, 'type', 'veth', 'peer', 'name', vq, 'netns', this.peer]);
    for (const [ns, dev, addrs] of [[this.pod, vp, [`${POD_IP}/24`]], [this.peer, vq, [`${PEER_IP}/24`, `${PEER_IP2}/24`]]] as const) {
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      for (const a of addrs) sh(['ip', '-n', ns, 'addr', 'add', a, 'dev', dev]);
      sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    // "Any address" leaves the pod through the peer.
    sh(['ip', '-n', this.pod, 'route', 'add', 'default', 'via', PEER_IP]);
  }

  exec(ns: string, args: string[], input?: string): string {
    return execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** Runs `meshlet <args>` inside the pod namespace; returns {code, stdout, stderr}. */
  meshlet(args: string[]): { code: number; stdout: string; stderr: string } {
    try {
      const stdout = execFileSync('ip', ['netns', 'exec', this.pod, process.execPath, MESHLET_BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { code: e.status, stdout: e.stdout, stderr: e.stderr };
    }
  }

  /**
   * Runs `meshlet <args>` in the pod namespace as the injected init container does: root
   * filesystem read-only, and only the capabilities given (e.g. `+net_admin,+net_raw`).
   */
  meshletConfined(caps: string, args: string[]): { code: number; stdout: string; stderr: string } {
    const cmd = ['mount -o remount,bind,ro /', `exec ip netns exec "$0" setpriv --bounding-set -all,${caps} --inh-caps -all "$@"`].join(' && ');
    try {
      const stdout = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', cmd, this.pod, process.execPath, MESHLET_BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { code: e.status, stdout: e.stdout, stderr: e.stderr };
    }
  }

  /** Starts a net-agent listener in `ns` and waits for it to be ready. */
  async listen(ns: string, port: number, label: string): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, AGENT, 'listen', String(port), label], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
    while (!out.includes('ready')) {
      if (child.exitCode !== null) throw new Error(`listener ${label} exited`);
      await Promise.race([once(child.stdout, 'data'), once(child, 'exit')]);
    }
    clearTimeout(deadline);
  }

  /** Connects from `ns` (optionally as uid/gid and from a source address); returns the answer. */
  connect(ns: string, host: string, port: number, uid?: number, source?: string): Record<string, string | null> {
    const args = [process.execPath, AGENT, 'connect', host, String(port), uid === undefined ? '-' : String(uid), ...(source !== undefined ? [source] : [])];
    let out: string;
    try {
      out = this.exec(ns, args);
    } catch (err) {
      out = (err as { stdout?: string }).stdout ?? '{"error":"agent failed"}';
    }
    return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, string | null>;
  }

  /** Starts `meshlet <args>` in the pod namespace as uid/gid 1337 (the injected proxy's identity); killed by destroy(). */
  spawnAsProxy(args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.pod, 'setpriv', '--reuid', '1337', '--regid', '1337', '--clear-groups', process.execPath, MESHLET_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /** GET from inside `ns`; the status code, or null when it failed. */
  httpStatus(ns: string, url: string): number | null {
    try {
      return (JSON.parse(this.exec(ns, [process.execPath, AGENT, 'http', url]).trim()) as { status: number }).status;
    } catch {
      return null;
    }
  }

  iptablesSave(): string {
    // Counters and the generated-on comments change between runs; the rules must not.
    return this.exec(this.pod, ['iptables-save', '-t', 'nat']).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]$/, '')).join('\n');
  }

  destroy(): void {
    for (const c of this.children) c.kill('SIGKILL');
    for (const ns of [this.pod, this.peer]) {
      try { sh(['ip', 'netns', 'del', ns]); } catch { /* already gone */ }
    }
  }
}
