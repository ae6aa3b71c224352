/**
 * Stage "proxy": direct vs one meshlet proxy vs two chained vs nginx vs haproxy, on
 * loopback. Every proxy runs pinned to CPU 0; the upstream (nginx returning 200) and the
 * load generators run pinned to CPU 1, the same for every variant. Figures per variant:
 * max req/s (wrk), proxy CPU µs per request (from /proc, the fair figure on 2 cores),
 * p50/p90/p99 at a fixed 1,000 req/s (per-response times), RSS idle and under load.
 */
import { request } from 'undici';
import type { BenchResult } from './types.ts';
import { cpuMicrosAll, rssMiBAll } from './lib/procstat.ts';
import { runWrk } from './lib/wrk.ts';
import { runFixedRate } from './lib/fixed-rate-run.ts';
import { startHaproxy, startNginx, type Running } from './lib/reference-proxies.ts';
import { startMeshletProxy } from './lib/meshlet-proxy.ts';
import { startBareUndici } from './lib/bare-undici.ts';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const UPSTREAM = '127.0.60.1:18080';
const WRK_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const FIXED_COUNT = Number(process.env.BENCH_FIXED_COUNT ?? 5000);
/** Comma-separated variant names to run (default all): quick iterations on one variant. */
const ONLY = process.env.BENCH_VARIANTS?.split(',').filter(Boolean);

interface Variant {
  name: string;
  /** Starts the proxies (none for direct); returns where to send load and which pids to measure. */
  start: () => Promise<{ url: string; host?: string; procs: Running[] }>;
}

async function waitListening(url: string, host?: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      // undici's request, not fetch: fetch drops a caller-set Host header.
      const res = await request(url, { headers: host === undefined ? {} : { host } });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered 200`);
}

const variants: Variant[] = [
  { name: 'direct', start: async () => ({ url: `http://${UPSTREAM}/`, procs: [] }) },
  { name: 'nginx', start: async () => ({ url: 'http://127.0.60.2:18081/', procs: [startNginx(PROXY_CPU, '127.0.60.2:18081', UPSTREAM)] }) },
  { name: 'haproxy', start: async () => ({ url: 'http://127.0.60.3:18082/', procs: [startHaproxy(PROXY_CPU, '127.0.60.3:18082', UPSTREAM)] }) },
  {
    // Node's floor: node:http + undici Pool.stream, no meshlet code (attributes meshlet's own cost).
    name: 'bare-undici',
    start: async () => ({ url: 'http://127.0.60.7:18083/', procs: [startBareUndici(PROXY_CPU, '127.0.60.7', 18083, UPSTREAM)] }),
  },
  {
    name: 'meshlet',
    start: async () => {
      const p = await startMeshletProxy({ cpu: PROXY_CPU, bind: '127.0.60.4', upstream: UPSTREAM });
      return { url: p.url, host: p.host, procs: [p.running] };
    },
  },
  {
    name: 'meshlet-x2',
    start: async () => {
      // Chained like two sidecars: the client's proxy forwards to the server's proxy, which forwards to the app.
      const server = await startMeshletProxy({ cpu: PROXY_CPU, bind: '127.0.60.6', upstream: UPSTREAM, asServer: true });
      const client = await startMeshletProxy({ cpu: PROXY_CPU, bind: '127.0.60.5', upstream: server.listenAddress });
      return { url: client.url, host: client.host, procs: [client.running, server.running] };
    },
  },
];

export async function bench(): Promise<BenchResult> {
  const figures: Record<string, number> = {};
  const notes: string[] = [`proxies pinned to CPU ${PROXY_CPU}; upstream nginx and load generators pinned to CPU ${LOAD_CPU}`, `wrk -t1 -c32 ${WRK_SECONDS}s; fixed rate 1000 req/s × ${FIXED_COUNT}`];
  const upstream = startNginx(LOAD_CPU, UPSTREAM);
  try {
    await waitListening(`http://${UPSTREAM}/`);
    for (const v of variants) {
      if (ONLY !== undefined && v.name !== 'direct' && !ONLY.includes(v.name)) continue;
      let started: Awaited<ReturnType<Variant['start']>>;
      try {
        started = await v.start();
        await waitListening(started.url, started.host);
      } catch (err) {
        notes.push(`${v.name}: not measured (${(err as Error).message})`);
        continue;
      }
      try {
        const pids = (): number[] => started.procs.flatMap((p) => p.pids());
        // wrk adds its own Host header unless ours is spelled exactly `Host`.
        const headers = started.host === undefined ? undefined : { Host: started.host };
        figures[`${v.name}_rss_idle_mb`] = rssMiBAll(pids());
        await runWrk(started.url, { cpu: LOAD_CPU, connections: 32, seconds: 1, ...(headers && { headers }) }); // warm-up
        const cpu0 = cpuMicrosAll(pids());
        const wrk = await runWrk(started.url, { cpu: LOAD_CPU, connections: 32, seconds: WRK_SECONDS, ...(headers && { headers }) });
        const cpu1 = cpuMicrosAll(pids());
        figures[`${v.name}_max_rps`] = wrk.requestsPerSecond;
        figures[`${v.name}_errors`] = wrk.errors;
        if (started.procs.length > 0) figures[`${v.name}_cpu_us_per_req`] = (cpu1 - cpu0) / Math.max(1, wrk.requests);
        const lat = await runFixedRate(started.url, { cpu: LOAD_CPU, rate: 1000, count: FIXED_COUNT, ...(started.host === undefined ? {} : { host: started.host }) });
        figures[`${v.name}_p50_ms`] = lat.p50 / 1000;
        figures[`${v.name}_p90_ms`] = lat.p90 / 1000;
        figures[`${v.name}_p99_ms`] = lat.p99 / 1000;
        figures[`${v.name}_rss_load_mb`] = rssMiBAll(pids());
      } finally {
        for (const p of started.procs) await p.stop();
      }
    }
  } finally {
    await upstream.stop();
  }
  const ratios: Record<string, number> = {};
  const nginxCpu = figures.nginx_cpu_us_per_req;
  for (const v of ['haproxy', 'bare-undici', 'meshlet', 'meshlet-x2']) {
    const cpu = figures[`${v}_cpu_us_per_req`];
    if (cpu !== undefined && nginxCpu !== undefined) ratios[`${v}_cpu_vs_nginx`] = cpu / nginxCpu;
    const rps = figures[`${v}_max_rps`];
    if (rps !== undefined && figures.nginx_max_rps !== undefined) ratios[`${v}_rps_vs_nginx`] = rps / figures.nginx_max_rps;
    const p50 = figures[`${v}_p50_ms`];
    if (p50 !== undefined && figures.direct_p50_ms !== undefined) figures[`${v}_added_p50_ms`] = p50 - figures.direct_p50_ms;
  }
  if (figures.nginx_p50_ms !== undefined && figures.direct_p50_ms !== undefined) figures.nginx_added_p50_ms = figures.nginx_p50_ms - figures.direct_p50_ms;
  if (figures.direct_max_rps !== undefined) for (const v of ['nginx', 'haproxy', 'bare-undici', 'meshlet', 'meshlet-x2']) {
    const rps = figures[`${v}_max_rps`];
    if (rps !== undefined) ratios[`${v}_rps_vs_direct`] = rps / figures.direct_max_rps;
  }
  return {
    name: 'proxy',
    figures,
    ratios,
    goals: { meshlet_cpu_vs_nginx: { max: 1.5 }, meshlet_added_p50_ms: { max: 0.2 }, meshlet_rss_load_mb: { max: 64 } },
    notes,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await bench();
  console.log(JSON.stringify(r, null, 2));
}
