// Makes sure no etcd/kube-apiserver/go process outlives the test process,
// however it ends:
//  - normal end or uncaught error: the 'exit' handler SIGKILLs what is tracked;
//  - SIGINT/SIGTERM/SIGHUP: same, then the signal is re-raised (unless someone
//    else, e.g. the node:test harness, handles it and exits on its own);
//  - SIGKILL or a crash that skips 'exit': each server has a watchdog shell whose
//    stdin is a pipe from us; the kernel closes it when we die, `cat` sees EOF
//    and the watchdog kills the server. No prctl needed.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

function reapSync(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  if (process.env.MESHLET_K8S_KEEP !== '1') {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  reapSync();
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', reapSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

export function trackChild(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

/**
 * Starts a watchdog that SIGKILLs `pid` when this process dies without
 * cleaning up. Kill the returned process (SIGKILL) on orderly shutdown,
 * before stopping the server, so it never fires on a reused pid.
 */
export function startWatchdog(pid: number): ChildProcess {
  // INT/HUP ignored: a Ctrl-C to the process group must not kill the watchdog
  // before our own process is gone.
  const watchdog = spawn('/bin/sh', ['-c', 'trap "" INT HUP; cat >/dev/null 2>&1; kill -KILL "$1" 2>/dev/null', 'meshlet-watchdog', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  watchdog.on('error', () => {});
  return watchdog;
}
