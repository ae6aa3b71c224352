/**
 * Operator push at scale: a real `meshlet operator --local` process over a directory of
 * 1,000 Services (10 namespaces), 5,000 WorkloadEntries, 200 VirtualServices (+200
 * DestinationRules), and 200 scripted proxies long-polling over HTTPS. Each round edits one
 * VirtualService visible to every proxy and measures the time from the file write to the
 * ACK of the new version by all 200 proxies (p50/p99 over rounds), plus the operator's
 * RSS and CPU per push. Runnable alone: `node test/bench/operator-push.bench.ts`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import type { BenchResult } from './types.ts';
import { cpuMicros, rssMiB } from './lib/procstat.ts';

const NS = 10;
const SVC_PER_NS = 100;
const EP_PER_SVC = 5;
const VS_COUNT = 200;
const PROXIES = 200;
const ROUNDS = Number(process.env.OPERATOR_BENCH_ROUNDS ?? 10);
const bin = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));

function vsYaml(i: number, ns: number, w: number): string {
  return `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: svc-${i}, namespace: ns-${ns}}\nspec:\n  hosts: [svc-${i}]\n  http:\n  - name: split\n    route:\n    - {destination: {host: svc-${i}, subset: v1}, weight: ${w}}\n    - {destination: {host: svc-${i}, subset: v2}, weight: ${100 - w}}\n`;
}

function writeWorld(dir: string): void {
  for (let n = 0; n < NS; n++) {
    const docs: string[] = [];
    for (let s = 0; s < SVC_PER_NS; s++) {
      const i = n * SVC_PER_NS + s;
      docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, namespace: ns-${n}}\nspec:\n  selector: {app: svc-${i}}\n  ports: [{name: http, port: 8080}]\n`);
      for (let e = 0; e < EP_PER_SVC; e++) {
        docs.push(`apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: svc-${i}-${e}, namespace: ns-${n}}\nspec: {address: 127.${1 + n}.${s}.${e + 1}, labels: {app: svc-${i}, version: v${(e % 2) + 1}}, serviceAccount: svc-${i}}\n`);
      }
      if (i < VS_COUNT && i !== 0) {
        docs.push(vsYaml(i, n, 90));
        docs.push(`apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: svc-${i}, namespace: ns-${n}}\nspec:\n  host: svc-${i}\n  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]\n`);
      }
    }
    writeFileSync(join(dir, `ns-${n}.yaml`), docs.join('---\n'));
  }
  // svc-0's rules live in their own small file: the one each round edits.
  writeFileSync(join(dir, 'svc-0-rules.yaml'), `${vsYaml(0, 0, 90)}---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: svc-0, namespace: ns-0}\nspec:\n  host: svc-0\n  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]\n`);
}

interface Client {
  id: string;
  version: string;
  /** Called with (version, time) when a snapshot arrives (the client ACKs on its next request). */
  onVersion?: (v: string, at: number) => void;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

export async function bench(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-bench-op-'));
  const mesh = join(dir, 'mesh');
  mkdirSync(mesh);
  writeWorld(mesh);
  const caFile = join(dir, 'ca.pem');
  const proc = spawn(process.execPath, [bin, 'operator', '--local', mesh, '--address', '127.0.0.1', '--push-port', '0', '--monitor-port', '0', '--ca-file', caFile, '--hold', '30000', '--insecure-proxy-claims', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stopped = false;
  const agent = new Agent({ connect: { ca: '' }, bodyTimeout: 0, headersTimeout: 0 });
  try {
    const pushPort = await new Promise<number>((resolve, reject) => {
      let buf = '';
      const t = setTimeout(() => reject(new Error('operator did not start in 120 s')), 120_000);
      proc.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /"pushPort":(\d+)/.exec(buf);
        if (m !== null) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
      proc.once('exit', (code) => reject(new Error(`operator exited with ${code}`)));
    });
    const ca = readFileSync(caFile, 'utf8');
    const tls = new Agent({ connect: { ca }, bodyTimeout: 0, headersTimeout: 0, connections: PROXIES * 2 });
    const clients: Client[] = [];
    for (let p = 0; p < PROXIES; p++) {
      const n = p % NS;
      const i = n * SVC_PER_NS + Math.floor(p / NS);
      clients.push({ id: `svc-${i}-0.ns-${n}`, version: '' });
    }
    const loops = clients.map(async (c) => {
      let ack: string | undefined;
      while (!stopped) {
        const q = new URLSearchParams({ proxy: c.id, version: c.version });
        if (ack !== undefined) q.set('ack', ack);
        try {
          const res = await request(`https://127.0.0.1:${pushPort}/v1/config?${q}`, { dispatcher: tls, headers: { 'accept-encoding': 'gzip' } });
          for await (const _chunk of res.body) {
            // drain: the bench measures delivery, not parsing
          }
          if (res.statusCode === 200) {
            const v = String(res.headers['x-meshlet-version']);
            c.version = v;
            ack = v;
            c.onVersion?.(v, performance.now());
          } else ack = undefined;
        } catch {
          if (!stopped) await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
    const waitAll = (pred: (c: Client) => boolean, timeoutMs: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error('timed out waiting for proxies')), timeoutMs);
        const check = (): void => {
          if (clients.every(pred)) {
            clearTimeout(deadline);
            resolve();
          } else setTimeout(check, 5);
        };
        check();
      });
    await waitAll((c) => c.version !== '', 300_000);
    const allAck: number[] = [];
    const perProxy: number[] = [];
    const cpu0 = cpuMicros(proc.pid as number);
    for (let r = 0; r < ROUNDS; r++) {
      const before = new Map(clients.map((c) => [c.id, c.version]));
      const got: number[] = [];
      for (const c of clients) c.onVersion = (v, at) => v !== before.get(c.id) && got.push(at);
      const t0 = performance.now();
      writeFileSync(join(mesh, 'svc-0-rules.yaml'), readFileSync(join(mesh, 'svc-0-rules.yaml'), 'utf8').replace(/weight: (\d+)\}\n {4}- \{destination: \{host: svc-0, subset: v2\}, weight: (\d+)/, `weight: ${50 + r}}\n    - {destination: {host: svc-0, subset: v2}, weight: ${50 - r}`));
      await waitAll((c) => c.version !== before.get(c.id), 60_000);
      allAck.push(Math.max(...got) - t0);
      perProxy.push(...got.map((g) => g - t0));
      await new Promise((res) => setTimeout(res, 300));
    }
    const cpu1 = cpuMicros(proc.pid as number);
    const rss = rssMiB(proc.pid as number);
    stopped = true;
    allAck.sort((a, b) => a - b);
    perProxy.sort((a, b) => a - b);
    await tls.destroy();
    await Promise.allSettled(loops);
    return {
      name: 'operator-push',
      figures: {
        apply_to_all_acks_p50_ms: pct(allAck, 0.5),
        apply_to_all_acks_p99_ms: pct(allAck, 0.99),
        apply_to_proxy_ack_p50_ms: pct(perProxy, 0.5),
        apply_to_proxy_ack_p99_ms: pct(perProxy, 0.99),
        operator_rss_mb: rss,
        operator_cpu_ms_per_push: (cpu1 - cpu0) / 1000 / (ROUNDS * PROXIES),
        // The machine is shared: read the latencies against its load.
        load_average_1m: loadavg()[0] ?? 0,
      },
      goals: { apply_to_all_acks_p99_ms: { max: 1000 } },
      notes: [
        `${NS * SVC_PER_NS} services in ${NS} namespaces, ${NS * SVC_PER_NS * EP_PER_SVC} WorkloadEntries, ${VS_COUNT} VirtualServices + DestinationRules, ${PROXIES} proxies over HTTPS, ${ROUNDS} rounds`,
        'local mode (file edit → fs.watch → debounce 100 ms → World → snapshots → long-poll answers); the time includes the 100 ms debounce',
        'CPU per push = operator user+system CPU during the rounds / (rounds × proxies); the proxies are in the bench process on the same 2 cores',
      ],
    };
  } finally {
    stopped = true;
    await agent.destroy().catch(() => undefined);
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await bench();
  console.log(JSON.stringify(r, null, 2));
}
