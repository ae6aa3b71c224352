// Helpers of the end-to-end scenarios: the README's install commands as data, requests sent
// from inside a pod (kubectl exec), and waiting on kubectl conditions.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OneNodeCluster } from '../node/node.ts';
import type { RunResult } from '../cluster/binaries.ts';

/**
 * The shell commands of a README section's first ```sh block (comments and `&` dropped,
 * continuation lines joined), with `<placeholder>`s replaced: the scenario runs exactly these.
 */
export function readmeCommands(readme: string, heading: string, placeholders: Record<string, string>): string[][] {
  const at = readme.indexOf(heading);
  if (at < 0) throw new Error(`README has no section "${heading}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (block === null) throw new Error(`README section "${heading}" has no sh block`);
  const joined = (block[1] ?? '').replace(/\\\n\s*/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.replace(/\s#.*$/, '').replace(/^#.*$/, '').trim())
    .filter((l) => l !== '')
    .map((l) => {
      let line = l;
      for (const [k, v] of Object.entries(placeholders)) line = line.split(k).join(v);
      return line.replace(/\s*&$/, '').split(/\s+/);
    });
}

export function must(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code ?? r.signal}): ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  return r.stdout;
}

/** Runs an ES module script with Node in a pod's app container; its last stdout line is JSON. */
export async function inPod<T>(node: OneNodeCluster, ns: string, target: string, script: string, timeoutMs = 180_000, container = 'app'): Promise<T> {
  const r = await node.kubectl(['-n', ns, 'exec', target, '-c', container, '--', 'node', '--input-type=module', '-e', script], { timeoutMs });
  const out = must(r, `kubectl exec ${target}`).trim().split('\n');
  return JSON.parse(out.at(-1) ?? 'null') as T;
}

/** A script that sends `count` requests (sequentially, or at a fixed pace) and tallies them. */
export function requestsScript(opts: { url: string; count: number; method?: string; headers?: Record<string, string>; header?: string; intervalMs?: number }): string {
  return `
const o = ${JSON.stringify(opts)};
const tally = {}; const errors = {}; const statuses = {}; const ms = [];
for (let i = 0; i < o.count; i++) {
  const t0 = performance.now();
  try {
    const r = await fetch(o.url, { method: o.method ?? 'GET', headers: o.headers ?? {}, signal: AbortSignal.timeout(10000) });
    await r.arrayBuffer();
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (o.header) { const v = r.headers.get(o.header) ?? 'none'; tally[v] = (tally[v] ?? 0) + 1; }
  } catch (e) {
    const k = String(e.cause?.code ?? e.name ?? e);
    errors[k] = (errors[k] ?? 0) + 1;
  }
  ms.push(performance.now() - t0);
  if (o.intervalMs) await new Promise((r) => setTimeout(r, o.intervalMs));
}
console.log(JSON.stringify({ statuses, tally, errors, ms }));
`;
}

export interface Tally {
  statuses: Record<string, number>;
  tally: Record<string, number>;
  errors: Record<string, number>;
  ms: number[];
}

export async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000}s`);
    await sleep(everyMs);
  }
}

interface PodJson {
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { initContainers?: { name: string; restartPolicy?: string }[]; containers: { name: string }[] };
  status: { phase: string; podIP?: string; containerStatuses?: { name: string; ready: boolean }[]; initContainerStatuses?: { name: string; ready: boolean; state?: Record<string, unknown> }[] };
}

export async function pods(node: OneNodeCluster, ns: string, selector?: string): Promise<PodJson[]> {
  const r = await node.kubectl(['-n', ns, 'get', 'pods', '-o', 'json', ...(selector === undefined ? [] : ['-l', selector])]);
  return (JSON.parse(must(r, 'kubectl get pods')) as { items: PodJson[] }).items;
}

/** Resident memory of every meshlet proxy process of the node (found by its pod cgroup), in MB. */
export function sidecarRss(): { pid: number; rssMb: number }[] {
  const out: { pid: number; rssMb: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cgroup = readFileSync(join('/proc', entry, 'cgroup'), 'utf8');
      if (!cgroup.includes('/meshlet-e2e/')) continue;
      const cmd = readFileSync(join('/proc', entry, 'cmdline'), 'utf8').split('\0');
      if (!cmd.some((a) => a === 'proxy') || !cmd.some((a) => a.includes('meshlet') || a.includes('entry.js'))) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(join('/proc', entry, 'status'), 'utf8'));
      if (rss !== null) out.push({ pid: Number(entry), rssMb: Math.round(Number(rss[1]) / 1024) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
