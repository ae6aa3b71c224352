/**
 * Stage "proxy": direct vs one meshlet proxy vs two chained vs nginx vs haproxy, on
 * loopback, and the real mesh hop: two meshlet proxies with mutual TLS between them against
 * two nginx with mutual TLS between them. Every proxy runs pinned to CPU 0; the upstream
 * (nginx returning 200) and the load generators run pinned to CPU 1, the same for every
 * variant. Figures per variant: max req/s (wrk), proxy CPU µs per request (from /proc, the
 * fair figure on 2 cores), p50/p90/p99 at a fixed 1,000 req/s (per-response times), RSS idle
 * (and anonymous, the part not shared with other processes) at 1,000 req/s and after max load,
 * and per process its RSS and CPU (vCPU) during the 1,000 req/s run.
 * BENCH_PROXY_FLAG_SETS adds one-proxy variants with other V8 flags (see README).
 */
import { loadavg } from 'node:os';
import { request } from 'undici';
import type { BenchResult } from './types.ts';
import { anonMiBAll, cpuMicrosAll, rssMiBAll } from './lib/procstat.ts';
import { runWrk } from './lib/wrk.ts';
import { runFixedRate } from './lib/fixed-rate-run.ts';
import { startHaproxy, startNginx, type Running } from './lib/reference-proxies.ts';
import { ensureCompiled, startMeshletProxy } from './lib/meshlet-proxy.ts';
import { startBareUndici } from './lib/bare-undici.ts';
import { meshCa, type CertFiles } from './lib/mesh-certs.ts';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const UPSTREAM = '127.0.60.1:18080';
const WRK_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const FIXED_COUNT = Number(process.env.BENCH_FIXED_COUNT ?? 5000);
/** Comma-separated variant names to run (default all): quick iterations on one variant. */
const ONLY = process.env.BENCH_VARIANTS?.split(',').filter(Boolean);
/**
 * `label=flags;label=flags…`: one extra one-proxy variant `meshlet@label` per V8 flag set
 * (MESHLET_PROXY_NODE_FLAGS; an empty set means none; `NAME=value` words are environment),
 * to choose the flags by measurement.
 */
const FLAG_SETS = (process.env.BENCH_PROXY_FLAG_SETS ?? '').split(';').filter((x) => x.includes('=')).map((x) => {
  const i = x.indexOf('=');
  return { label: x.slice(0, i).trim(), flags: x.slice(i + 1).trim() };
});

interface Variant {
  name: string;
  /** Starts the proxies (none for direct); returns where to send load, extra request headers and which pids to measure. */
  start: () => Promise<{ url: string; host?: string; headers?: Record<string, string>; procs: Running[] }>;
}

async function waitListening(url: string, host?: string, extra: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      // undici's request, not fetch: fetch drops a caller-set Host header.
      const res = await request(url, { headers: { ...extra, ...(host === undefined ? {} : { host }) } });
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
  {
    // The reference for the mesh hop: nginx → (TLS 1.3, client certificate) → nginx → app.
    name: 'nginx-tls-x2',
    start: async () => {
      const c = await certs();
      const serverTls = { cert: c.server.cert, key: c.server.key, root: c.server.root };
      const server = startNginx(PROXY_CPU, '127.0.60.9:18085', UPSTREAM, { server: serverTls });
      const client = startNginx(PROXY_CPU, '127.0.60.8:18084', '127.0.60.9:18085', { client: { cert: c.client.cert, key: c.client.key, root: c.client.root } });
      return { url: 'http://127.0.60.8:18084/', procs: [client, server] };
    },
  },
  {
    // The real mesh hop: client sidecar → mutual TLS (workload certs, SPIFFE ID checked) → server sidecar (STRICT) → app.
    name: 'meshlet-mtls-x2',
    start: async () => {
      const c = await certs();
      const server = await startMeshletProxy({ cpu: PROXY_CPU, bind: '127.0.60.11', upstream: UPSTREAM, asServer: true, mtls: c.server });
      const client = await startMeshletProxy({ cpu: PROXY_CPU, bind: '127.0.60.10', upstream: server.listenAddress, mtls: { ...c.client, peerIdentity: c.server.identity } });
      return { url: client.url, host: client.host, procs: [client.running, server.running] };
    },
  },
  {
    // The server-side sidecar alone (inbound → app), no policy: the baseline of meshlet-jwt.
    name: 'meshlet-inbound',
    start: async () => {
      const p = await startMeshletProxy({ cpu: PROXY_CPU, bind: '127.0.60.12', upstream: UPSTREAM, asServer: true });
      return { url: p.url, host: p.host, procs: [p.running] };
    },
  },
  {
    // The same request with a bearer JWT (RS256) verified by a RequestAuthentication and an
    // AuthorizationPolicy on its principal and a claim: the cost of end-user authentication.
    name: 'meshlet-jwt',
    start: async () => {
      const { jwtBenchSecurity } = await import('./lib/jwt-security.ts');
      const j = await jwtBenchSecurity();
      const p = await startMeshletProxy({ cpu: PROXY_CPU, bind: '127.0.60.13', upstream: UPSTREAM, asServer: true, security: j.security });
      return { url: p.url, host: p.host, headers: { authorization: `Bearer ${j.token}` }, procs: [p.running] };
    },
  },
  ...FLAG_SETS.map((f, i): Variant => ({
    name: `meshlet@${f.label}`,
    start: async () => {
      // `NAME=value` words are environment for the proxy (e.g. MALLOC_ARENA_MAX), the rest node flags.
      const words = f.flags.split(/\s+/).filter(Boolean);
      const env = Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
      const flags = words.filter((w) => !/^[A-Z_]+=/.test(w)).join(' ');
      const p = await startMeshletProxy({ cpu: PROXY_CPU, bind: `127.0.60.${20 + i}`, upstream: UPSTREAM, env: { ...env, MESHLET_PROXY_NODE_FLAGS: flags } });
      return { url: p.url, host: p.host, procs: [p.running] };
    },
  })),
];

/**
 * One variant, in this order so that the 1,000 req/s figures come from a process that has
 * seen only that load: RSS idle → 1,000 req/s (1 s warm-up, then the measured run: latency,
 * per-process vCPU and RSS) → max load with wrk (CPU µs per request, max req/s) → RSS after it.
 */
async function measure(name: string, started: Awaited<ReturnType<Variant['start']>>, figures: Record<string, number>): Promise<void> {
  const pids = (): number[] => started.procs.flatMap((p) => p.pids());
  const host = started.host === undefined ? {} : { host: started.host };
  // The machine is shared: the 1-minute load average says how much others ran meanwhile.
  figures[`${name}_loadavg_1m`] = loadavg()[0] ?? 0;
  figures[`${name}_rss_idle_mb`] = rssMiBAll(pids());
  figures[`${name}_anon_idle_mb`] = anonMiBAll(pids());
  const extra = started.headers === undefined ? {} : { headers: started.headers };
  await runFixedRate(started.url, { cpu: LOAD_CPU, rate: 1000, count: 1000, ...host, ...extra }); // warm-up
  const procCpu0 = started.procs.map((p) => cpuMicrosAll(p.pids()));
  const t0 = performance.now();
  const lat = await runFixedRate(started.url, { cpu: LOAD_CPU, rate: 1000, count: FIXED_COUNT, ...host, ...extra });
  const wallUs = (performance.now() - t0) * 1000;
  figures[`${name}_p50_ms`] = lat.p50 / 1000;
  figures[`${name}_p90_ms`] = lat.p90 / 1000;
  figures[`${name}_p99_ms`] = lat.p99 / 1000;
  figures[`${name}_fixed_errors`] = lat.errors;
  figures[`${name}_rss_1k_mb`] = rssMiBAll(pids());
  figures[`${name}_anon_1k_mb`] = anonMiBAll(pids());
  // Per process (each sidecar on its own): RSS and CPU at 1,000 req/s, as vCPU per 1,000 req/s
  // actually served (a starved proxy serves fewer: then the achieved rate says so).
  const achieved = lat.count / (wallUs / 1e6);
  figures[`${name}_fixed_achieved_rps`] = achieved;
  started.procs.forEach((p, i) => {
    if (started.procs.length > 1) figures[`${name}_proc${i + 1}_rss_1k_mb`] = rssMiBAll(p.pids());
    figures[`${name}_proc${i + 1}_vcpu_at_1k_rps`] = ((cpuMicrosAll(p.pids()) - (procCpu0[i] ?? 0)) / wallUs) * (1000 / achieved);
  });
  // wrk adds its own Host header unless ours is spelled exactly `Host`.
  const headers = started.host === undefined && started.headers === undefined ? undefined : { ...started.headers, ...(started.host === undefined ? {} : { Host: started.host }) };
  await runWrk(started.url, { cpu: LOAD_CPU, connections: 32, seconds: 1, ...(headers && { headers }) }); // warm-up
  const cpu0 = cpuMicrosAll(pids());
  const wrk = await runWrk(started.url, { cpu: LOAD_CPU, connections: 32, seconds: WRK_SECONDS, ...(headers && { headers }) });
  const cpu1 = cpuMicrosAll(pids());
  figures[`${name}_max_rps`] = wrk.requestsPerSecond;
  figures[`${name}_errors`] = wrk.errors;
  if (started.procs.length > 0) figures[`${name}_cpu_us_per_req`] = (cpu1 - cpu0) / Math.max(1, wrk.requests);
  figures[`${name}_rss_load_mb`] = rssMiBAll(pids());
}

/** Workload certificates from a real meshlet CA, issued once per run. */
let issued: Promise<{ client: CertFiles; server: CertFiles }> | undefined;
function certs(): Promise<{ client: CertFiles; server: CertFiles }> {
  issued ??= meshCa().then(async (ca) => ({ client: await ca.issue('bench', 'client'), server: await ca.issue('bench', 'server') }));
  return issued;
}

export async function bench(): Promise<BenchResult> {
  const figures: Record<string, number> = {};
  const notes: string[] = [`proxies pinned to CPU ${PROXY_CPU}; upstream nginx and load generators pinned to CPU ${LOAD_CPU}`, `per variant: RSS idle; 1,000 req/s × 1000 warm-up then × ${FIXED_COUNT} measured (latency, vCPU, rss_1k); wrk -t1 -c32 1 s warm-up then ${WRK_SECONDS} s (max req/s, CPU µs/request, rss_load after it)`, `load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`];
  notes.push(`meshlet proxies run ${ensureCompiled() === 'dist' ? 'the compiled dist/' : 'the TypeScript sources (dist/ could not be built)'}`);
  const upstream = startNginx(LOAD_CPU, UPSTREAM);
  try {
    await waitListening(`http://${UPSTREAM}/`);
    for (const v of variants) {
      if (ONLY !== undefined && v.name !== 'direct' && !ONLY.includes(v.name)) continue;
      let started: Awaited<ReturnType<Variant['start']>>;
      try {
        started = await v.start();
        await waitListening(started.url, started.host, started.headers);
      } catch (err) {
        notes.push(`${v.name}: not measured (${(err as Error).message})`);
        continue;
      }
      try {
        await measure(v.name, started, figures);
      } finally {
        for (const p of started.procs) await p.stop();
      }
    }
  } finally {
    await upstream.stop();
  }
  const ratios: Record<string, number> = {};
  const nginxCpu = figures.nginx_cpu_us_per_req;
  const flagVariants = FLAG_SETS.map((f) => `meshlet@${f.label}`);
  for (const v of ['haproxy', 'bare-undici', 'meshlet', 'meshlet-x2', ...flagVariants]) {
    const cpu = figures[`${v}_cpu_us_per_req`];
    if (cpu !== undefined && nginxCpu !== undefined) ratios[`${v}_cpu_vs_nginx`] = cpu / nginxCpu;
    const rps = figures[`${v}_max_rps`];
    if (rps !== undefined && figures.nginx_max_rps !== undefined) ratios[`${v}_rps_vs_nginx`] = rps / figures.nginx_max_rps;
    const p50 = figures[`${v}_p50_ms`];
    if (p50 !== undefined && figures.direct_p50_ms !== undefined) figures[`${v}_added_p50_ms`] = p50 - figures.direct_p50_ms;
  }
  if (figures.nginx_p50_ms !== undefined && figures.direct_p50_ms !== undefined) figures.nginx_added_p50_ms = figures.nginx_p50_ms - figures.direct_p50_ms;
  if (figures.direct_max_rps !== undefined) for (const v of ['nginx', 'haproxy', 'bare-undici', 'meshlet', 'meshlet-x2', 'nginx-tls-x2', 'meshlet-mtls-x2']) {
    const rps = figures[`${v}_max_rps`];
    if (rps !== undefined) ratios[`${v}_rps_vs_direct`] = rps / figures.direct_max_rps;
  }
  Object.assign(ratios, meshHopRatios(figures));
  // End-user authentication: the JWT-verified, claim-authorized request against the same request without.
  for (const [k, unit] of [['cpu_us_per_req', 'cpu'], ['max_rps', 'rps'], ['p50_ms', 'p50'], ['p99_ms', 'p99']] as const) {
    const a = figures[`meshlet-jwt_${k}`];
    const b = figures[`meshlet-inbound_${k}`];
    if (a !== undefined && b !== undefined && b > 0) ratios[`meshlet-jwt_${unit}_vs_meshlet-inbound`] = a / b;
  }
  for (const v of ['meshlet', 'meshlet-x2', ...flagVariants]) {
    for (const k of ['rss_idle', 'rss_1k', 'rss_load']) {
      const rss = figures[`${v}_${k}_mb`];
      const base = figures[`nginx_${k}_mb`];
      if (rss !== undefined && base !== undefined) ratios[`${v}_${k}_vs_nginx`] = rss / base;
    }
    const vcpu = figures[`${v}_proc1_vcpu_at_1k_rps`];
    if (vcpu !== undefined && figures.nginx_proc1_vcpu_at_1k_rps !== undefined) ratios[`${v}_vcpu_at_1k_vs_nginx`] = vcpu / figures.nginx_proc1_vcpu_at_1k_rps;
  }
  return {
    name: 'proxy',
    figures,
    ratios,
    goals: {
      meshlet_cpu_vs_nginx: { max: 2.5 },
      'meshlet-x2_cpu_vs_nginx': { max: 5 },
      meshlet_rss_idle_mb: { max: 64 },
      meshlet_rss_1k_mb: { max: 80 },
      'meshlet-mtls-x2_added_p50_ms': { max: 0.6 },
      'meshlet-mtls-x2_p90_minus_nginx-tls-x2_ms': { max: 1 },
      'meshlet-mtls-x2_added_p99_ms': { max: 3 },
    },
    notes: [...notes, 'mTLS variants: TLS 1.3 with ECDSA P-256 workload certs from a meshlet CA; nginx-tls-x2\'s client hop does not verify the server (nginx checks DNS names, mesh certs carry a SPIFFE URI), its server hop verifies the client; meshlet verifies both, SPIFFE ID included', 'Istio 1.24 publishes 0.20 vCPU and 60 MB per 1,000 req/s for its sidecar with mTLS and telemetry'],
  };
}

/** The mesh hop (two sidecars with mTLS) against two nginx with mTLS, per process and end to end. */
function meshHopRatios(f: Record<string, number>): Record<string, number> {
  const r: Record<string, number> = {};
  const m = 'meshlet-mtls-x2';
  const n = 'nginx-tls-x2';
  if (f[`${m}_p50_ms`] !== undefined && f.direct_p50_ms !== undefined) {
    f[`${m}_added_p50_ms`] = f[`${m}_p50_ms`]! - f.direct_p50_ms;
    if (f.direct_p99_ms !== undefined) f[`${m}_added_p99_ms`] = f[`${m}_p99_ms`]! - f.direct_p99_ms;
  }
  if (f[`${n}_p50_ms`] !== undefined && f.direct_p50_ms !== undefined) f[`${n}_added_p50_ms`] = f[`${n}_p50_ms`]! - f.direct_p50_ms;
  if (f[`${m}_p90_ms`] !== undefined && f[`${n}_p90_ms`] !== undefined) f[`${m}_p90_minus_${n}_ms`] = f[`${m}_p90_ms`]! - f[`${n}_p90_ms`]!;
  const ratio = (key: string, a: number | undefined, b: number | undefined): void => {
    if (a !== undefined && b !== undefined && b > 0) r[key] = a / b;
  };
  ratio(`${m}_cpu_vs_${n}`, f[`${m}_cpu_us_per_req`], f[`${n}_cpu_us_per_req`]);
  ratio(`${m}_rps_vs_${n}`, f[`${m}_max_rps`], f[`${n}_max_rps`]);
  ratio(`${m}_added_p50_vs_${n}`, f[`${m}_added_p50_ms`], f[`${n}_added_p50_ms`]);
  ratio(`${m}_p90_vs_${n}`, f[`${m}_p90_ms`], f[`${n}_p90_ms`]);
  ratio(`${m}_p99_vs_${n}`, f[`${m}_p99_ms`], f[`${n}_p99_ms`]);
  ratio(`${m}_rss_1k_vs_${n}`, f[`${m}_rss_1k_mb`], f[`${n}_rss_1k_mb`]);
  for (const i of [1, 2]) {
    ratio(`${m}_proc${i}_vcpu_at_1k_vs_${n}`, f[`${m}_proc${i}_vcpu_at_1k_rps`], f[`${n}_proc${i}_vcpu_at_1k_rps`]);
    ratio(`${m}_proc${i}_rss_1k_vs_${n}`, f[`${m}_proc${i}_rss_1k_mb`], f[`${n}_proc${i}_rss_1k_mb`]);
  }
  return r;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await bench();
  console.log(JSON.stringify(r, null, 2));
}
