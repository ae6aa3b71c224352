/**
 * Stage "resilience": (1) the cost of an enabled-but-idle retry + timeout + outlier-detection
 * chain against the same proxy with none of them (same run, proxy pinned to CPU 0, nginx and
 * wrk on CPU 1; variants interleaved over rounds, best kept); (2) an overloaded upstream
 * (capacity 5 concurrent × 50 ms = 100 req/s, offered 200 req/s open-loop — low enough that
 * the proxy itself is never the bottleneck): p99 latency with and without circuit breaking
 * (maxConnections 5, http1MaxPendingRequests 5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { compose } from '../../proxy/chain/compose.ts';
import type { RequestContext, ResponseSink, RouteRuntime } from '../../proxy/chain/types.ts';
import { admitUpstream, pickEndpoint } from '../../proxy/resilience/cluster-guard.ts';
import { resilienceFeatures } from '../../proxy/resilience/index.ts';
import { compileCluster } from '../../proxy/runtime/clusters.ts';
import type { BenchResult } from './types.ts';
import { benchSnapshot } from './lib/meshlet-proxy.ts';
import { cpuMicrosAll } from './lib/procstat.ts';
import { startNginx } from './lib/reference-proxies.ts';
import { runWrk } from './lib/wrk.ts';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const NGINX = '127.0.63.1:18091';
const SLOW = '127.0.63.3:18092';
const BIND = '127.0.63.2';
const HOST = 'upstream.bench.svc.cluster.local';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const bin = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
const U32 = 4294967295;

type Variant = 'none' | 'idle' | 'nocb' | 'cb';

export function snapshotFor(v: Variant): ProxySnapshot {
  const s = benchSnapshot(v === 'none' || v === 'idle' ? NGINX : SLOW);
  const route = s.routes[0]!.virtualHosts[0]!.routes[0]!;
  const cl = s.clusters[0]!;
  s.telemetry = { metrics: false, accessLog: false, tracing: { samplingPercent: 0 } };
  route.retries = { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retryRemoteLocalities: false, backoffBaseMs: 25 };
  if (v === 'idle') {
    route.retries = { attempts: 2, perTryTimeoutMs: 2000, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', '503'], retryRemoteLocalities: false, backoffBaseMs: 25 };
    route.timeoutMs = 5000;
    cl.outlierDetection = { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 0, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0 };
  }
  if (v === 'cb') cl.connectionPool = { ...cl.connectionPool, maxConnections: 5, http1MaxPendingRequests: 5 };
  if (v === 'nocb') cl.connectionPool = { ...cl.connectionPool, maxConnections: U32, http1MaxPendingRequests: U32 };
  s.version = `res-${v}`;
  return s;
}

async function startProxy(v: Variant): Promise<{ pid: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-bench-res-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(file, JSON.stringify(snapshotFor(v)));
  const proc = spawn('taskset', ['-c', String(PROXY_CPU), process.execPath, bin, 'proxy', '--config-file', file, '--bind', BIND, '--admin-address', BIND,
    '--outbound-port', '15001', '--inbound-port', '15006', '--admin-port', '15000', '--ready-port', '15021', '--stats-port', '15090', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; ; i++) {
    try {
      const res = await request(`http://${BIND}:15021/healthz/ready`);
      await res.body.dump();
      if (res.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null || i > 150) throw new Error(`proxy did not become ready (exit ${proc.exitCode})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: proc.pid ?? 0,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An upstream with a fixed capacity: 5 requests served at a time, 50 ms each (100 req/s), the rest queue (as an overloaded app does). */
function startSlowUpstream(): ChildProcess {
  const [host, port] = SLOW.split(':');
  const code = `
    const http = require('node:http');
    let busy = 0; const q = [];
    const serve = (res) => { busy++; setTimeout(() => { res.end('ok'); busy--; const n = q.shift(); if (n) serve(n); }, 50); };
    http.createServer((req, res) => { req.resume(); if (busy < 5) serve(res); else q.push(res); }).listen(${port}, '${host}', () => process.stdout.write('ready\\n'));`;
  return spawn('taskset', ['-c', String(LOAD_CPU), process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Open-loop load at `rate` req/s for `count` requests over many connections; latencies in ms. */
async function openLoop(rate: number, count: number): Promise<{ p50: number; p99: number; p99ok: number; ok: number; uo: number; other: number }> {
  const pool = new Pool(`http://${BIND}:15001`, { connections: 1024, pipelining: 1 });
  const all: number[] = [];
  const okLat: number[] = [];
  let ok = 0;
  let uo = 0;
  let other = 0;
  const start = performance.now();
  const deadline = start + (count / rate) * 1000 + 30_000;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    pending.push(
      pool.request({ path: '/', method: 'GET', headers: { host: HOST }, headersTimeout: 30_000, bodyTimeout: 30_000 }).then(
        async (res) => {
          await res.body.dump();
          const ms = performance.now() - t0;
          all.push(ms);
          if (res.statusCode === 200) {
            ok++;
            okLat.push(ms);
          } else if (res.headers['x-meshlet-flags'] === 'UO') uo++;
          else other++;
        },
        () => {
          other++;
        },
      ),
    );
  }
  await Promise.all(pending);
  await pool.close();
  const q = (a: number[], p: number): number => {
    a.sort((x, y) => x - y);
    return a[Math.min(a.length - 1, Math.floor(p * a.length))] ?? NaN;
  };
  return { p50: q(all, 0.5), p99: q(all, 0.99), p99ok: q(okLat, 0.99), ok, uo, other };
}

/**
 * In-process cost per request of the resilience features and seams on the success path
 * (fault + timeout + retry composed around a terminal doing the real pick/admit and a
 * synchronous 200): less noisy than the end-to-end figures on a shared machine.
 */
function hotPathNs(v: 'none' | 'idle'): number {
  const s = snapshotFor(v);
  const route = s.routes[0]!.virtualHosts[0]!.routes[0]!;
  const cluster = { ...s.clusters[0]!, name: `hot-${v}` };
  const cl = compileCluster(cluster, s.endpoints[0], undefined);
  const rt = { route, virtualHost: 'v', destinations: [{ weighted: { cluster: cluster.name, weight: 1 }, cluster: cl, request: undefined, response: undefined }], rewritePath: undefined, mirrors: [], requestHeaders: undefined, responseHeaders: undefined } as unknown as RouteRuntime;
  const r = resilienceFeatures({ random: Math.random });
  const handle = { abort: () => undefined };
  const send = (ctx: RequestContext): void => {
    (ctx.sink as { onUpstream?: (h: typeof handle) => void }).onUpstream?.(handle);
    ctx.sink.start(200, {});
    ctx.sink.end(undefined);
    ctx.endpoint!.active--;
  };
  const terminal = (ctx: RequestContext): void => {
    const ep = pickEndpoint(cl, ctx, Math.random, undefined)!;
    ctx.endpoint = ep;
    ep.active++;
    admitUpstream(cl, ctx, ep, send);
  };
  const h = compose([r.fault, r.timeout, r.retry], terminal, rt);
  const sink: ResponseSink = { start: () => undefined, data: () => true, end: () => undefined, fail: () => undefined };
  const req = { headers: {}, readableEnded: true, once: () => undefined };
  const res = { once: () => undefined, destroyed: false };
  const N = 200_000;
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) h({ req, res, headers: {}, flags: '', destination: rt.destinations[0], endpoint: undefined, sink } as unknown as RequestContext);
    best = Math.min(best, ((performance.now() - t0) * 1e6) / N);
  }
  return best;
}

export async function bench(): Promise<BenchResult> {
  const figures: Record<string, number> = {};
  figures.hot_ns_per_req_none = hotPathNs('none');
  figures.hot_ns_per_req_idle_retry_timeout_outlier = hotPathNs('idle');
  const nginx = startNginx(LOAD_CPU, NGINX);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const best: Record<string, { rps: number; cpu: number }> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of ['none', 'idle'] as const) {
        const p = await startProxy(v);
        try {
          await runWrk(`http://${BIND}:15001/`, { cpu: LOAD_CPU, connections: 32, seconds: 1, headers: { Host: HOST } });
          const c0 = cpuMicrosAll([p.pid]);
          const r = await runWrk(`http://${BIND}:15001/`, { cpu: LOAD_CPU, connections: 32, seconds: SECONDS, headers: { Host: HOST } });
          const cpu = (cpuMicrosAll([p.pid]) - c0) / Math.max(1, r.requests);
          if (r.errors > 0) throw new Error(`${v}: ${r.errors} errors`);
          const b = best[v];
          if (b === undefined || r.requestsPerSecond > b.rps) best[v] = { rps: r.requestsPerSecond, cpu };
        } finally {
          await p.stop();
        }
      }
    }
    figures.rps_no_resilience = best.none!.rps;
    figures.rps_idle_retry_timeout_outlier = best.idle!.rps;
    figures.cpu_us_per_req_no_resilience = best.none!.cpu;
    figures.cpu_us_per_req_idle_retry_timeout_outlier = best.idle!.cpu;
  } finally {
    await nginx.stop();
  }

  const slow = startSlowUpstream();
  try {
    await new Promise<void>((resolve, reject) => {
      slow.stdout!.once('data', () => resolve());
      slow.once('exit', (c) => reject(new Error(`slow upstream exited ${c}`)));
    });
    for (const v of ['nocb', 'cb'] as const) {
      const p = await startProxy(v);
      try {
        const r = await openLoop(200, 1200);
        figures[`overload_p99_ms_${v}`] = r.p99;
        figures[`overload_p50_ms_${v}`] = r.p50;
        figures[`overload_p99_ms_200s_${v}`] = r.p99ok;
        figures[`overload_share_503_uo_${v}`] = r.uo / (r.ok + r.uo + r.other);
        figures[`overload_other_errors_${v}`] = r.other;
      } finally {
        await p.stop();
      }
    }
  } finally {
    slow.kill('SIGTERM');
  }
  return {
    name: 'resilience',
    figures,
    ratios: {
      idle_chain_rps_vs_none: figures.rps_idle_retry_timeout_outlier! / figures.rps_no_resilience!,
      idle_chain_cpu_vs_none: figures.cpu_us_per_req_idle_retry_timeout_outlier! / figures.cpu_us_per_req_no_resilience!,
      overload_p99_cb_vs_nocb: figures.overload_p99_ms_cb! / figures.overload_p99_ms_nocb!,
      hot_idle_chain_share_of_proxy_cpu: (figures.hot_ns_per_req_idle_retry_timeout_outlier! - figures.hot_ns_per_req_none!) / 1000 / figures.cpu_us_per_req_no_resilience!,
    },
    goals: { hot_idle_chain_share_of_proxy_cpu: { max: 0.05 }, overload_p99_cb_vs_nocb: { max: 0.5 } },
    notes: [
      `proxy pinned to CPU ${PROXY_CPU}; nginx upstream, wrk and the slow upstream on CPU ${LOAD_CPU}; ${ROUNDS} interleaved rounds of ${SECONDS} s, best kept`,
      'end-to-end rps/cpu ratios swing ±30% between rounds on the shared 2-core machine (a CPU profile of the proxy shows none of the resilience code among its top functions); the in-process hot_ns figures are the stable measure of the idle chain',
      'idle chain: retries (2 attempts, Istio default retryOn, perTryTimeout 2 s) + route timeout 5 s + outlier detection, on a healthy upstream (no retry ever fires)',
      'overload: upstream serves 5 at a time × 50 ms (100 req/s); 1,200 requests offered open-loop at 200 req/s; cb = maxConnections 5 + http1MaxPendingRequests 5',
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await bench();
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
