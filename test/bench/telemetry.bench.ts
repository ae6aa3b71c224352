/**
 * Stage "telemetry": the cost of metrics, tracing and the access log on a real proxy, each
 * variant against the same proxy with every signal off (same run, same pinning: proxy on
 * CPU 0, nginx upstream and wrk on CPU 1). Also what a scrape of 50 services' worth of Istio
 * series costs requests on the real proxy (lib/scrape-stall.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { ProxySnapshot, Telemetry } from '../../common/snapshot.ts';
import type { BenchResult } from './types.ts';
import { benchSnapshot } from './lib/meshlet-proxy.ts';
import { cpuMicrosAll } from './lib/procstat.ts';
import { startNginx } from './lib/reference-proxies.ts';
import { runWrk } from './lib/wrk.ts';
import { runFixedRate } from './lib/fixed-rate-run.ts';
import { ProxyMetrics } from '../../proxy/telemetry/metrics.ts';
import { scrapeStallFigures } from './lib/scrape-stall.ts';
import { Tracing } from '../../proxy/telemetry/tracing.ts';
import { AccessLog } from '../../proxy/telemetry/access-log.ts';
import { startReceiver } from '../telemetry/harness/otlp-receiver.ts';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const UPSTREAM = '127.0.61.1:18090';
const BIND = '127.0.61.2';
const HOST = 'upstream.bench.svc.cluster.local';
// wrk adds its own `Host` unless the header is spelled exactly `Host`; two Host headers
// would make the proxy route on the wrong one.
const WRK_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/** Variants are interleaved over rounds and the best round kept: the machine is shared and noisy. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FIXED_COUNT = Number(process.env.BENCH_FIXED_COUNT ?? 3000);
const main = fileURLToPath(new URL('../telemetry/harness/proxy-main.ts', import.meta.url));

async function startProxy(snapshot: ProxySnapshot): Promise<{ pid: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-bench-tel-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(file, JSON.stringify(snapshot));
  const proc = spawn('taskset', ['-c', String(PROXY_CPU), process.execPath, main, JSON.stringify({ bind: BIND, snapshotFile: file, appHost: '127.0.61.1', statsPort: 15090 })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('proxy did not start')), 20_000);
    proc.once('exit', (c) => reject(new Error(`proxy exited ${c}`)));
    lines.on('line', (l) => {
      if (l.includes('"ready":true')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
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

async function ok(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await request(`http://${BIND}:15001/`, { headers: { Host: HOST } });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('proxy never answered 200');
}

/** In-process cost of each signal's per-request work, less sensitive to machine noise. */
async function hotPathFigures(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const m = new ProxyMetrics({ processMetrics: false });
  const snap = benchSnapshot(UPSTREAM);
  const b = m.bind(snap).forCluster(snap.clusters[0]!, []);
  const o = { code: 200, flags: '-', grpcStatus: '', peer: undefined, mtls: false, durationMs: 3, requestBytes: 0, responseBytes: 300 };
  const N = 200_000;
  let t0 = performance.now();
  for (let i = 0; i < N; i++) {
    o.durationMs = i % 50;
    b.http.record(o);
  }
  out.hot_metrics_record_ns = ((performance.now() - t0) * 1e6) / N;
  for (const pct of [1, 100]) {
    const t = new Tracing({ exporter: () => ({ export: (_s, cb) => cb({ code: 0 }), shutdown: async () => undefined }) });
    t.configure({ samplingPercent: pct, otlpEndpoint: 'http://127.0.0.1:1' }, snap.proxy);
    const M = 20_000;
    t0 = performance.now();
    for (let i = 0; i < M; i++) {
      const h: Record<string, string> = { 'x-request-id': 'r' };
      const span = t.start(h, { kind: 'client', name: 'x:80/*', attributes: () => ({ component: 'proxy', 'http.method': 'GET' }) });
      if (span !== undefined) t.end(span, { status: 200, flags: '-', responseBytes: 10, requestBytes: 0 });
    }
    out[`hot_tracing${pct}_us`] = ((performance.now() - t0) * 1e3) / M;
    await t.shutdown();
  }
  const log = new AccessLog({ dest: '/dev/null' });
  log.configure(true);
  const L = 50_000;
  t0 = performance.now();
  for (let i = 0; i < L; i++) log.write({ start_time: new Date().toISOString(), method: 'GET', path: '/x', protocol: 'HTTP/1.1', response_code: 200, response_flags: '-', bytes_received: 0, bytes_sent: 3, duration: 1, upstream_host: '127.0.0.1:80', upstream_cluster: 'c', route_name: 'default', route_provenance: 'Service/ns/n', authority: 'h', x_request_id: 'r', trace_id: null, peer_principal: null, downstream_remote_address: '127.0.0.1', direction: 'outbound', user_agent: 'wrk' });
  out.hot_accesslog_write_us = ((performance.now() - t0) * 1e3) / L;
  await log.close();
  return out;
}

export async function bench(): Promise<BenchResult> {
  const figures: Record<string, number> = {};
  const notes = [`proxy (startProxy, as meshlet proxy runs it) pinned to CPU ${PROXY_CPU}; nginx upstream and wrk -t1 -c32 ${WRK_SECONDS}s, then ${FIXED_COUNT} requests at a fixed 1,000 req/s for p50/p99, on CPU ${LOAD_CPU}`];
  const sink = await startReceiver('127.0.61.3');
  const variants: [string, Telemetry][] = [
    ['off', { metrics: false, accessLog: false, tracing: { samplingPercent: 1 } }],
    ['metrics', { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } }],
    ['tracing1', { metrics: true, accessLog: false, tracing: { samplingPercent: 1, otlpEndpoint: sink.url } }],
    ['tracing100', { metrics: true, accessLog: false, tracing: { samplingPercent: 100, otlpEndpoint: sink.url } }],
    ['accesslog', { metrics: true, accessLog: true, tracing: { samplingPercent: 1 } }],
  ];
  const upstream = startNginx(LOAD_CPU, UPSTREAM);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, telemetry] of variants) {
        const p = await startProxy({ ...benchSnapshot(UPSTREAM), version: `tel-${name}`, telemetry });
        try {
          await ok();
          const url = `http://${BIND}:15001/`;
          await runWrk(url, { cpu: LOAD_CPU, connections: 32, seconds: 1, headers: { Host: HOST } });
          const c0 = cpuMicrosAll([p.pid]);
          const w = await runWrk(url, { cpu: LOAD_CPU, connections: 32, seconds: WRK_SECONDS, headers: { Host: HOST } });
          const c1 = cpuMicrosAll([p.pid]);
          const cpu = (c1 - c0) / Math.max(1, w.requests);
          figures[`${name}_max_rps`] = Math.max(figures[`${name}_max_rps`] ?? 0, w.requestsPerSecond);
          figures[`${name}_cpu_us_per_req`] = Math.min(figures[`${name}_cpu_us_per_req`] ?? Infinity, cpu);
          figures[`${name}_errors`] = (figures[`${name}_errors`] ?? 0) + w.errors;
          // Latency at a fixed 1,000 req/s (open loop), lowest p50/p99 over the rounds.
          const lat = await runFixedRate(url, { cpu: LOAD_CPU, rate: 1000, count: FIXED_COUNT, host: HOST });
          figures[`${name}_p50_ms`] = Math.min(figures[`${name}_p50_ms`] ?? Infinity, lat.p50 / 1000);
          figures[`${name}_p99_ms`] = Math.min(figures[`${name}_p99_ms`] ?? Infinity, lat.p99 / 1000);
          figures[`${name}_errors`] = (figures[`${name}_errors`] ?? 0) + lat.errors;
        } catch (err) {
          notes.push(`${name} round ${round}: not measured (${(err as Error).message})`);
        } finally {
          await p.stop();
        }
      }
    }
  } finally {
    await upstream.stop();
    await sink.close();
  }
  notes.push(`OTLP sink received ${sink.spans.length} spans`);
  Object.assign(figures, await scrapeStallFigures({ proxyCpu: PROXY_CPU, loadCpu: LOAD_CPU, ip: '127.0.61.5' }), await hotPathFigures());
  notes.push('scrape stall: the real `meshlet proxy` holding 50 services x 5 codes of Istio series, probed every 2 ms while a raw-socket scraper fetches 15090 back to back (a worst case: Prometheus scrapes every 15 s); requests overlapping a scrape vs the rest');
  notes.push(`best of ${ROUNDS} interleaved rounds per variant (max req/s, min CPU/req); hot-path figures are in-process loops`);
  const ratios: Record<string, number> = {};
  for (const v of ['metrics', 'tracing1', 'tracing100', 'accesslog']) {
    if (figures[`${v}_max_rps`] !== undefined && figures.off_max_rps) ratios[`${v}_rps_vs_off`] = figures[`${v}_max_rps`]! / figures.off_max_rps;
    if (figures[`${v}_cpu_us_per_req`] !== undefined && figures.off_cpu_us_per_req) ratios[`${v}_cpu_vs_off`] = figures[`${v}_cpu_us_per_req`]! / figures.off_cpu_us_per_req;
    for (const q of ['p50', 'p99']) {
      const base = figures[`off_${q}_ms`];
      if (figures[`${v}_${q}_ms`] !== undefined && base) ratios[`${v}_${q}_vs_off`] = figures[`${v}_${q}_ms`]! / base;
    }
  }
  for (const q of ['p50', 'p99', 'max']) {
    const during = figures[`stall_req_${q}_ms_during_scrape`];
    const quiet = figures[`stall_req_${q}_ms_no_scrape`];
    if (during !== undefined && quiet) ratios[`stall_req_${q}_during_vs_no_scrape`] = during / quiet;
  }
  return { name: 'telemetry', figures, ratios, goals: { metrics_rps_vs_off: { min: 0.9 }, stall_req_p50_during_vs_no_scrape: { max: 1.5 } }, notes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await bench(), null, 2));
}
