/**
 * A small local mesh for telemetry tests: per workload one app (a real node:http server on
 * its own loopback address) and one real proxy process; snapshots written the way the
 * operator's translation would write them for local mode (endpoints are the peers'
 * inbound capture ports). Apps forward only the trace headers and x-request-id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Cluster, ProxySnapshot, Telemetry } from '../../../common/snapshot.ts';
import { validateSnapshot } from '../../../common/snapshot-validate.ts';

export interface WorkloadSpec {
  /** Service name (also the app label). */
  service: string;
  version: string;
  /** Services this app calls (once each) for every request it gets. */
  calls: string[];
  /** Status the app answers with (after its calls). */
  status?: number;
}

export interface Workload {
  spec: WorkloadSpec;
  proxyIp: string;
  appIp: string;
  statsPort: number;
  proxy: ChildProcess;
  app: Server;
  /** stdout lines of the proxy (access log). */
  lines: string[];
  /** Status the app answers with; tests flip it. */
  status: number;
  /** stderr of the proxy so far. */
  err: string;
}

const NS = 'default';
const PORT = 8080;
const fqdn = (s: string): string => `${s}.${NS}.svc.cluster.local`;
const prov = (kind: string, name: string) => ({ kind, namespace: NS, name });

const TRACE_HEADERS = ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'x-request-id'];

export function snapshotFor(w: WorkloadSpec, all: { spec: WorkloadSpec; proxyIp: string }[], index: number, telemetry: Telemetry, net = '127.0.12'): ProxySnapshot {
  // One cluster, virtual host and endpoint set per service; a service's versions are its endpoints.
  const services = [...new Set(all.map((a) => a.spec.service))].map((service) => ({ spec: all.find((a) => a.spec.service === service)!.spec, members: all.filter((a) => a.spec.service === service) }));
  const clusters: Cluster[] = services.map(({ spec }) => ({
    name: `outbound|${PORT}||${fqdn(spec.service)}`, service: fqdn(spec.service), port: PORT, protocol: 'http', loadBalancer: { policy: 'ROUND_ROBIN' },
    connectionPool: { maxConnections: 4294967295, connectTimeoutMs: 2000, http1MaxPendingRequests: 4294967295, http2MaxRequests: 4294967295, maxRequestsPerConnection: 0, maxRetries: 4294967295, idleTimeoutMs: 60000, maxConcurrentStreams: 2147483647 },
    tls: { mode: 'DISABLE' }, endpointSet: `outbound|${PORT}||${fqdn(spec.service)}`, provenance: prov('Service', spec.service),
  }));
  const retries = { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retryRemoteLocalities: false, backoffBaseMs: 25 };
  const snap = {
    version: `tel-${w.service}-${JSON.stringify(telemetry).length}-${Date.now()}`,
    proxy: { id: `${w.service}-${w.version}-0.${NS}`, namespace: NS, workload: `${w.service}-${w.version}`, serviceAccount: w.service, labels: { app: w.service, version: w.version }, ip: `${net}.${index + 1}`, spiffeId: `spiffe://cluster.local/ns/${NS}/sa/${w.service}` },
    listeners: [
      { name: `outbound|${PORT}`, direction: 'outbound', address: '0.0.0.0', port: PORT, protocol: 'http', routeTable: String(PORT), provenance: prov('default', String(PORT)) },
      { name: `inbound|${PORT}`, direction: 'inbound', address: '0.0.0.0', port: PORT, protocol: 'http', appPort: PORT, provenance: prov('Service', w.service) },
    ],
    routes: [{ name: String(PORT), provenance: prov('default', String(PORT)), virtualHosts: services.map(({ spec }) => ({
      name: `${fqdn(spec.service)}:${PORT}`, provenance: prov('Service', spec.service),
      domains: [spec.service, `${spec.service}.${NS}`, fqdn(spec.service), `${spec.service}:${PORT}`, `${spec.service}.${NS}:${PORT}`, `${fqdn(spec.service)}:${PORT}`],
      routes: [{ name: 'default', match: [], action: { kind: 'forward', destinations: [{ cluster: `outbound|${PORT}||${fqdn(spec.service)}`, weight: 100 }] }, timeoutMs: 0, retries, provenance: prov('Service', spec.service) }],
    })) }],
    clusters,
    endpoints: services.map(({ spec, members }) => ({ name: `outbound|${PORT}||${fqdn(spec.service)}`, provenance: prov('Service', spec.service), endpoints: members.map((m) => (
      { address: m.proxyIp, port: 15006, labels: { app: m.spec.service, version: m.spec.version }, weight: 1, healthy: true, workload: { name: `${m.spec.service}-${m.spec.version}`, namespace: NS, app: m.spec.service, version: m.spec.version } }
    )) })),
    security: { peerAuthentication: { mode: 'PERMISSIVE', ports: {}, provenance: prov('default', 'mesh') }, authorization: [] },
    telemetry,
  };
  const v = validateSnapshot(snap);
  if (!v.ok) throw new Error(`test snapshot invalid: ${JSON.stringify(v.errors.slice(0, 3))}`);
  return v.snapshot;
}

/** One call through the caller's sidecar (explicit proxy), forwarding only the trace headers. */
export function callVia(proxyIp: string, service: string, path: string, incoming?: IncomingMessage['headers']): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const headers: Record<string, string> = { host: `${service}:${PORT}` };
  for (const h of TRACE_HEADERS) {
    const v = incoming?.[h];
    if (typeof v === 'string') headers[h] = v;
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: proxyIp, port: 15001, method: 'GET', path: `http://${service}:${PORT}${path}`, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request from outside the mesh straight to a workload's inbound port (like an ingress). */
export function callInbound(w: Workload, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: w.proxyIp, port: 15006, method: 'GET', path, headers: { host: `${w.spec.service}:${PORT}`, ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface Mesh {
  workloads: Workload[];
  byService(s: string): Workload;
  dir: string;
  /** Headers each app saw on its last request. */
  seen: Map<string, IncomingMessage['headers']>;
  /** Rewrites every snapshot with new telemetry settings and reloads the proxies. */
  setTelemetry(t: Telemetry): Promise<void>;
  stop(): Promise<void>;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** `net`: the first three octets of the addresses (proxies at .<base+i>, apps at .<100+base+i>). */
export async function startMesh(specs: WorkloadSpec[], telemetry: Telemetry, base = 1, net = '127.0.12'): Promise<Mesh> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-tel-'));
  const all = specs.map((spec, i) => ({ spec, proxyIp: `${net}.${base + i}`, appIp: `${net}.${100 + base + i}` }));
  const workloads: Workload[] = [];
  const seen = new Map<string, IncomingMessage['headers']>();
  const stop = async (): Promise<void> => {
    await Promise.all(workloads.map((w) => new Promise<void>((r) => {
      if (w.proxy.exitCode !== null || w.proxy.signalCode !== null) return r();
      w.proxy.once('exit', () => r());
      w.proxy.kill('SIGTERM');
      setTimeout(() => w.proxy.kill('SIGKILL'), 5000).unref();
    })));
    await Promise.all(workloads.map((w) => new Promise<void>((r) => { w.app.closeAllConnections(); w.app.close(() => r()); })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [i, a] of all.entries()) {
      const file = join(dir, `${a.spec.service}-${a.spec.version}.json`);
      writeFileSync(file, JSON.stringify(snapshotFor(a.spec, all, base - 1 + i, telemetry, net)));
      const w = { spec: a.spec, proxyIp: a.proxyIp, appIp: a.appIp, statsPort: 15090, lines: [] as string[], status: a.spec.status ?? 200 } as Workload;
      w.app = createServer((req, res) => {
        seen.set(a.spec.service, req.headers);
        void (async () => {
          const codes: number[] = [];
          for (const c of a.spec.calls) codes.push((await callVia(a.proxyIp, c, req.url ?? '/', req.headers).catch(() => ({ status: 0 }))).status);
          res.writeHead(w.status, { 'content-type': 'text/plain' }).end(`${a.spec.service} ${codes.join(',')}\n`);
        })();
      });
      await new Promise<void>((r) => w.app.listen(PORT, a.appIp, () => r()));
      w.proxy = spawn(process.execPath, [join(here, 'proxy-main.ts'), JSON.stringify({ bind: a.proxyIp, snapshotFile: file, appHost: a.appIp, statsPort: w.statsPort })], { stdio: ['ignore', 'pipe', 'pipe'] });
      workloads.push(w);
      w.err = '';
      w.proxy.stderr!.on('data', (d: Buffer) => (w.err += d.toString()));
      const err = { toString: () => w.err };
      const lines = createInterface({ input: w.proxy.stdout! });
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`proxy ${a.spec.service} did not start: ${err}`)), 20_000);
        w.proxy.once('exit', (c) => reject(new Error(`proxy ${a.spec.service} exited ${c}: ${err}`)));
        lines.on('line', (l) => {
          w.lines.push(l);
          if (l.includes('"ready":true')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    workloads,
    dir,
    seen,
    byService: (s) => workloads.find((w) => w.spec.service === s)!,
    async setTelemetry(t) {
      for (const [i, a] of all.entries()) writeFileSync(join(dir, `${a.spec.service}-${a.spec.version}.json`), JSON.stringify(snapshotFor(a.spec, all, base - 1 + i, t, net)));
      // Each proxy answers SIGHUP with one `reloaded: <ApplyResult>` line; only the line
      // written after this signal counts (an earlier reload's success must not), and a
      // proxy that never answers fails the call instead of letting the test run on old config.
      const from = workloads.map((w) => w.err.length);
      const reloadLine = (w: Workload, k: number): string | undefined => /reloaded: (.*)\n/.exec(w.err.slice(from[k]))?.[1];
      for (const w of workloads) w.proxy.kill('SIGHUP');
      for (let i = 0; i < 200 && workloads.some((w, k) => reloadLine(w, k) === undefined); i++) await new Promise((r) => setTimeout(r, 50));
      for (const [k, w] of workloads.entries()) {
        const line = reloadLine(w, k);
        if (line === undefined) throw new Error(`proxy ${w.spec.service} did not reload within 10 s: ${w.err.slice(-2000)}`);
        const result = JSON.parse(line) as { ok: boolean; version: string };
        if (!result.ok) throw new Error(`proxy ${w.spec.service} refused the new snapshot: ${line}`);
      }
    },
    stop,
  };
}

/** GETs a workload proxy's stats text. */
export async function scrape(w: Workload): Promise<string> {
  const r = await fetch(`http://${w.proxyIp}:${w.statsPort}/stats/prometheus`);
  return r.text();
}

/** Sum of a metric's samples whose labels include every given pair. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
