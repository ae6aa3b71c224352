/** Child processes for the chaos mesh: spawned, logged, and always reaped (also on SIGINT). */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { rssMiB } from '../procstat.ts';

const live = new Set<ChildProcess>();
let hooked = false;

/** SIGKILL every child still alive: a bench interrupted with Ctrl-C must not leave proxies behind. */
export function killAll(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** stdout + stderr so far. */
  output(): string;
  alive(): boolean;
  exited: Promise<void>;
  /** SIGTERM, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
    process.once('SIGINT', () => {
      killAll();
      process.exit(130);
    });
  }
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(child);
  let out = '';
  // Keep only the tail: a soak prints a line per request from the app.
  const keep = (c: Buffer): void => {
    out += c.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => {
    live.delete(child);
    r();
  }));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid ?? 0,
    output: () => out,
    alive,
    exited,
    stop: async (graceMs = 5000) => {
      if (!alive()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Open descriptors of a process (/proc/<pid>/fd); NaN once it is gone. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

export function rss(pid: number): number {
  try {
    return rssMiB(pid);
  } catch {
    return NaN;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `pred` every 100 ms, at most `ms`; its last value. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (let i = 0; i < 10_000 && Date.now() < end; i++) {
    try {
      if (await pred()) return true;
    } catch {
      // not there yet
    }
    await sleep(100);
  }
  try {
    return await pred();
  } catch {
    return false;
  }
}
