/** Reads a process's CPU time and memory from /proc: the fair per-request cost figures. */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User + system CPU time of a process (and its reaped children) in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return (ticks * 1e6) / TICKS_PER_SECOND;
}

/** Resident set size in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m === null ? 0 : Number(m[1]) / 1024;
}

/** Anonymous resident memory in MiB (RssAnon): RSS minus the file pages (the node binary, libraries) shared with other processes. */
export function anonMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /RssAnon:\s+(\d+) kB/.exec(status);
  return m === null ? 0 : Number(m[1]) / 1024;
}

/** Sum over several processes (nginx master + workers, two chained proxies). */
export function cpuMicrosAll(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
}

export function rssMiBAll(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + rssMiB(pid), 0);
}

export function anonMiBAll(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + anonMiB(pid), 0);
}

/** Child pids (e.g. nginx workers) of a process, from the /proc children file of its main thread. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
