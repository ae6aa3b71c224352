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
import { readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const cleanups = new Set<() => void>();
let installed = false;

/** Dead or zombie (exited, not yet reaped): either way it no longer writes files. */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function reapSync(): void {
  const killed: number[] = [];
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
        killed.push(child.pid);
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  // SIGKILL is asynchronous: removing the temp dir while etcd still writes to it
  // fails with ENOTEMPTY. Wait (synchronously, we may be in an 'exit' handler) up to 2 s.
  const deadline = Date.now() + 2000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (killed.some((pid) => !gone(pid)) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 10);
  // Host state that outlives the processes (test/node: cgroups); after the kills, before the dirs.
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort, as below
    }
  }
  cleanups.clear();
  if (process.env.MESHLET_K8S_KEEP !== '1') {
    for (const dir of dirs) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      } catch {
        // best effort: never turn cleanup into a second failure
      }
    }
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

/** A synchronous cleanup run after the tracked processes are killed (exit, signals). */
export function trackCleanup(cleanup: () => void): void {
  install();
  cleanups.add(cleanup);
}

export function untrackCleanup(cleanup: () => void): void {
  cleanups.delete(cleanup);
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
