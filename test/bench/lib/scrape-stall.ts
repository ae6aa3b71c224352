/**
 * Does a Prometheus scrape stall requests? A real `meshlet proxy` (the product binary, pinned
 * to its own CPU) carries 50 services' worth of Istio series, made by real requests (50
 * outbound services × 5 response codes). A prober process sends one request every 2 ms
 * through the proxy and records each latency with its wall-clock start; a scraper process
 * fetches 15090 `/stats/prometheus` back to back for part of that time and records each
 * scrape's interval. Requests whose lifetime overlaps a scrape are compared with the rest:
 * the difference is what a scrape costs the request path.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxySnapshot } from '../../../common/snapshot.ts';
import { benchSnapshot } from './meshlet-proxy.ts';

const bin = fileURLToPath(new URL('../../../bin/meshlet', import.meta.url));
const SERVICES = 50;
const CODES = [200, 201, 404, 500, 503];
const PROBE_MS = Number(process.env.BENCH_STALL_MS ?? 6000);

/** 50 outbound services, each its own cluster, all served by one upstream that answers `/<code>` with that code. */
export function manyServicesSnapshot(upstream: string): ProxySnapshot {
  const base = benchSnapshot(upstream);
  const cluster = base.clusters[0]!;
  const endpoints = base.endpoints[0]!;
  const route = base.routes[0]!.virtualHosts[0]!.routes[0]!;
  const hosts = Array.from({ length: SERVICES }, (_, i) => `svc${i}.bench.svc.cluster.local`);
  return {
    ...base,
    version: 'bench-scrape-stall',
    routes: [{
      ...base.routes[0]!,
      virtualHosts: hosts.map((h) => ({
        name: `${h}:80`, domains: [h, `${h}:80`], provenance: route.provenance,
        // No retries: every response code becomes its own series, as the app sent it.
        routes: [{ ...route, retries: { ...route.retries, attempts: 0 }, action: { kind: 'forward' as const, destinations: [{ cluster: `outbound|80||${h}`, weight: 100 }] } }],
      })),
    }],
    clusters: hosts.map((h) => ({ ...cluster, name: `outbound|80||${h}`, service: h, endpointSet: `outbound|80||${h}` })),
    endpoints: hosts.map((h) => ({ ...endpoints, name: `outbound|80||${h}` })),
  };
}

function pinnedNode(cpu: number, args: string[]): ReturnType<typeof spawn> {
  return spawn('taskset', ['-c', String(cpu), process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function output(proc: ReturnType<typeof spawn>): Promise<string> {
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => proc.once('close', r));
  if (code !== 0) throw new Error(`child exited ${code}`);
  return out;
}

const upstreamScript = (host: string, port: number): string =>
  `import { createServer } from 'node:http'; createServer((q, s) => { s.statusCode = Number(q.url.slice(1)) || 200; s.end('ok'); }).listen(${port}, ${JSON.stringify(host)}, () => console.log('up'));`;

/** Seeds every (service, code) series once, then probes every 2 ms for `ms`; prints `[[startEpochMs, latencyMs], …]`. */
const proberScript = (proxy: string, ms: number): string => `
const hosts = Array.from({ length: ${SERVICES} }, (_, i) => 'svc' + i + '.bench.svc.cluster.local');
// node:http, not fetch: fetch does not let a caller set Host.
const { request, Agent } = await import('node:http');
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const [ph, pp] = '${proxy}'.split(':');
const get = (host, path) => new Promise((ok, fail) => request({ host: ph, port: Number(pp), path, agent, headers: { host } }, (res) => { res.resume(); res.on('end', () => ok(res.statusCode)); }).on('error', fail).end());
for (const h of hosts) for (const c of ${JSON.stringify(CODES)}) if ((await get(h, '/' + c)) !== c) throw new Error('seed request to ' + h + ' did not answer ' + c);
console.log('seeded');
const out = []; const end = Date.now() + ${ms};
while (Date.now() < end) {
  const at = performance.timeOrigin + performance.now(); const t = performance.now();
  await get(hosts[out.length % hosts.length], '/200');
  out.push([at, performance.now() - t]);
  await new Promise((r) => setTimeout(r, 2));
}
console.log(JSON.stringify(out));`;

/**
 * Scrapes back to back for `ms` over a raw socket, discarding the bytes: the scraper shares a
 * CPU with the prober, so it must cost little itself (a real Prometheus runs elsewhere).
 * Prints `{ scrapes: [[startEpochMs, endEpochMs]…], bytes }` (bytes of the last scrape).
 */
const scraperScript = (host: string, port: number, ms: number): string => `
const { connect } = await import('node:net');
const now = () => performance.timeOrigin + performance.now();
const scrape = () => new Promise((ok, fail) => {
  let bytes = 0; const s = connect(${port}, ${JSON.stringify(host)}, () => s.write('GET /stats/prometheus HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n'));
  s.on('data', (d) => (bytes += d.length)); s.on('end', () => ok(bytes)); s.on('error', fail);
});
const scrapes = []; let bytes = 0; const end = Date.now() + ${ms};
while (Date.now() < end) { const a = now(); bytes = await scrape(); scrapes.push([a, now()]); }
console.log(JSON.stringify({ scrapes, bytes }));`;

const pct = (sorted: number[], p: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

export async function scrapeStallFigures(o: { proxyCpu: number; loadCpu: number; ip: string }): Promise<Record<string, number>> {
  const upstream = `${o.ip.replace(/\.\d+$/, '.21')}:18091`;
  const bind = o.ip;
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-bench-stall-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(file, JSON.stringify(manyServicesSnapshot(upstream)));
  const [uh, up] = upstream.split(':');
  const app = pinnedNode(o.loadCpu, ['--input-type=module', '-e', upstreamScript(uh!, Number(up))]);
  const proxy = spawn('taskset', ['-c', String(o.proxyCpu), process.execPath, bin, 'proxy', '--config-file', file, '--bind', bind, '--admin-address', bind,
    '--outbound-port', '15001', '--inbound-port', '15006', '--admin-port', '15000', '--ready-port', '15021', '--stats-port', '15090', '--app-host', uh!, '--log-level', 'warn'], { stdio: ['ignore', process.env.BENCH_STALL_PROXY_STDOUT === '1' ? 'inherit' : 'ignore', 'inherit'] });
  try {
    await new Promise<void>((r) => app.stdout!.once('data', () => r()));
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`http://${bind}:15021/healthz/ready`).then((r) => r.status, () => 0)) === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const prober = pinnedNode(o.loadCpu, ['--input-type=module', '-e', proberScript(`${bind}:15001`, PROBE_MS)]);
    const probed = output(prober);
    // Start scraping a third of the way in, for the middle third: quiet samples on both sides.
    await new Promise<void>((r) => {
      let seen = '';
      prober.stdout!.on('data', (d: Buffer) => { if ((seen += d.toString()).includes('seeded')) r(); });
      prober.once('close', () => r());
    });
    await new Promise((r) => setTimeout(r, PROBE_MS / 3));
    const scraped = output(pinnedNode(o.loadCpu, ['--input-type=module', '-e', scraperScript(bind, 15090, PROBE_MS / 3)]));
    const samples = JSON.parse((await probed).trim().split('\n').pop()!) as [number, number][];
    const s = JSON.parse(await scraped) as { scrapes: [number, number][]; bytes: number };
    const text = await (await fetch(`http://${bind}:15090/stats/prometheus`)).text();
    const during: number[] = [];
    const quiet: number[] = [];
    for (const [at, lat] of samples) (s.scrapes.some(([a, b]) => at < b && at + lat > a) ? during : quiet).push(lat);
    during.sort((a, b) => a - b);
    quiet.sort((a, b) => a - b);
    const scrapeMs = s.scrapes.slice(1).map(([a, b]) => b - a).sort((a, b) => a - b);
    return {
      stall_requests_during_scrape: during.length,
      stall_req_p50_ms_during_scrape: pct(during, 0.5),
      stall_req_p99_ms_during_scrape: pct(during, 0.99),
      stall_req_max_ms_during_scrape: during[during.length - 1] ?? NaN,
      stall_req_p50_ms_no_scrape: pct(quiet, 0.5),
      stall_req_p99_ms_no_scrape: pct(quiet, 0.99),
      stall_req_max_ms_no_scrape: quiet[quiet.length - 1] ?? NaN,
      scrape_ms_50_services_p50: pct(scrapeMs, 0.5),
      scrape_ms_50_services_max: scrapeMs[scrapeMs.length - 1] ?? NaN,
      scrape_series_50_services: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
      scrape_kb_50_services: s.bytes / 1024,
    };
  } finally {
    for (const p of [proxy, app]) if (p.exitCode === null) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await scrapeStallFigures({ proxyCpu: 0, loadCpu: 1, ip: '127.0.62.2' }), null, 2));
}
