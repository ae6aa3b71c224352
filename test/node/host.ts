// What the one-node cluster needs from the host, and the host state it owns: Debian packages
// (installed when missing), a machine-wide lock (one node per machine: fixed addresses and
// cgroup root), the cgroup root `meshlet-e2e` in every hierarchy, and the host end of the veth.
// Everything else lives in the node's own namespaces and vanishes with them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from '../cluster/binaries.ts';
import { NET } from './versions.ts';

/** Debian packages the node runs on (containerd 1.6 + runc, CNI plugins, nft/iptables, buildah for images). */
export const DEB_PACKAGES = ['containerd', 'runc', 'containernetworking-plugins', 'conntrack', 'socat', 'iptables', 'nftables', 'iproute2', 'util-linux', 'buildah', 'debootstrap'];

const CGROUP_FS = '/sys/fs/cgroup';
export const CGROUP_ROOT = 'meshlet-e2e';
const LOCK_DIR = '/tmp/meshlet-e2e.lock';

/** Why this machine cannot run the node, or null when it can (after installing packages). */
export function unsupportedReason(): string | null {
  if (process.platform !== 'linux') return `a real node needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'a real node needs root (containerd, runc, namespaces, cgroups)';
  if (!existsSync('/usr/bin/dpkg')) return 'a real node is set up from Debian packages, and dpkg was not found';
  if (!existsSync(join(CGROUP_FS, 'memory')) && !existsSync(join(CGROUP_FS, 'cgroup.controllers'))) return `no cgroup hierarchy with the memory controller at ${CGROUP_FS}`;
  if (!existsSync('/proc/self/ns/net') || !existsSync('/proc/self/ns/pid')) return 'the kernel has no network or PID namespaces';
  return null;
}

export function missingPackages(): string[] {
  return DEB_PACKAGES.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
}

/** apt-get update + install of whatever is missing; a no-op when all are there. */
export function installPackages(log: (line: string) => void): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...missing]]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new HarnessError(`apt-get ${args.join(' ')} failed (exit ${r.status}):\n${(r.stderr || r.stdout || '').slice(-2000)}`);
  }
}

// ---------------------------------------------------------------- lock

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One node per machine. A dead holder's lock is taken over (after cleaning what it left). */
export async function lockMachine(log: (line: string) => void, timeoutMs = 30 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      return () => rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = Number.NaN;
    try {
      owner = Number.parseInt(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'), 10);
    } catch {
      // being written
    }
    if (Number.isInteger(owner) && !alive(owner)) {
      log(`the previous node's test process (pid ${owner}) is gone; cleaning what it left`);
      cleanHostSync();
      rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new HarnessError(`another test process (pid ${owner}) has held the one-node cluster for too long (${LOCK_DIR})`);
    if (!announced) {
      log(`another test process (pid ${owner}) runs the one-node cluster; waiting for it`);
      announced = true;
    }
    await sleep(1000);
  }
}

// ---------------------------------------------------------------- cgroups

function hierarchies(): string[] {
  return readdirSync(CGROUP_FS)
    .map((d) => join(CGROUP_FS, d))
    .filter((d) => {
      try {
        return statSync(d).isDirectory() && existsSync(join(d, 'cgroup.procs'));
      } catch {
        return false;
      }
    });
}

/** Creates /meshlet-e2e in every hierarchy (the kubelet's cgroupRoot), cpuset filled from the parent. */
export function createCgroupRoot(): void {
  for (const h of hierarchies()) {
    const dir = join(h, CGROUP_ROOT);
    mkdirSync(dir, { recursive: true });
    if (existsSync(join(h, 'cpuset.cpus')) && existsSync(join(dir, 'cpuset.cpus'))) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (readFileSync(join(dir, f), 'utf8').trim() === '') writeFileSync(join(dir, f), readFileSync(join(h, f), 'utf8'));
      }
    }
  }
}

/** Removes /meshlet-e2e from every hierarchy, deepest first; returns the dirs it could not remove. */
export function removeCgroupRoot(): string[] {
  const left: string[] = [];
  const remove = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
    } catch {
      return;
    }
    for (const child of entries) remove(child);
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
    }
  };
  for (const h of hierarchies()) {
    const dir = join(h, CGROUP_ROOT);
    if (existsSync(dir)) remove(dir);
  }
  return left;
}

// ---------------------------------------------------------------- network (host side)

export function linkExists(name: string): boolean {
  return existsSync(join('/sys/class/net', name));
}

/** The host's end of the veth into the node namespace: a /30 and one route to the node IP. */
export function connectHost(initPid: number): void {
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });
  const inNode = (...args: string[]): void => void execFileSync('nsenter', ['-t', String(initPid), '-n', '--', 'ip', ...args], { stdio: 'pipe' });
  ip('link', 'add', NET.hostVeth, 'type', 'veth', 'peer', 'name', NET.nodeVeth, 'netns', String(initPid));
  ip('addr', 'add', `${NET.hostLinkIp}/30`, 'dev', NET.hostVeth);
  ip('link', 'set', NET.hostVeth, 'up');
  inNode('addr', 'add', `${NET.nodeLinkIp}/30`, 'dev', NET.nodeVeth);
  inNode('link', 'set', NET.nodeVeth, 'up');
  ip('route', 'add', `${NET.nodeIp}/32`, 'via', NET.nodeLinkIp, 'dev', NET.hostVeth);
}

/**
 * Synchronous cleanup of the host state a node can leave once its processes are gone (it may run
 * in an 'exit' handler): the veth (normally gone with the namespace) and the cgroup root.
 * Retries for a moment: the kernel frees cgroups of killed tasks asynchronously.
 */
export function cleanHostSync(): string[] {
  if (linkExists(NET.hostVeth)) spawnSync('ip', ['link', 'del', NET.hostVeth], { stdio: 'ignore' });
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let left = removeCgroupRoot();
  for (let i = 0; i < 100 && left.length > 0; i++) {
    Atomics.wait(pause, 0, 0, 50);
    left = removeCgroupRoot();
  }
  return left;
}

/** What a finished run must not leave behind; [] when the host is clean. */
export function leftovers(): string[] {
  const found: string[] = [];
  for (const link of [NET.hostVeth, NET.nodeBridge, NET.podBridge, NET.nodeVeth]) if (linkExists(link)) found.push(`network link ${link}`);
  for (const h of hierarchies()) if (existsSync(join(h, CGROUP_ROOT))) found.push(`cgroup ${join(h, CGROUP_ROOT)}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes('meshlet-e2e') || l.includes('meshlet-node-'));
  for (const m of mounts) found.push(`mount ${m.split(' ')[4]}`);
  const routes = spawnSync('ip', ['route', 'show', `${NET.nodeIp}/32`], { encoding: 'utf8' }).stdout.trim();
  if (routes !== '') found.push(`route ${routes}`);
  if (existsSync(LOCK_DIR)) found.push(`lock ${LOCK_DIR}`);
  return found;
}
