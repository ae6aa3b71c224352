/** Shared setup for resilience tests: a real proxy process routing one host to given clusters. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { Cluster, ProxySnapshot, Route } from '../../common/snapshot.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from '../proxy/helpers/snapshot.ts';

export const NO_RETRIES = { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retryRemoteLocalities: false, backoffBaseMs: 25 };

export interface Svc {
  /** Host header that selects the route. */
  host: string;
  endpoints: { address: string; port: number }[];
  route?: Partial<Route>;
  cluster?: Partial<Cluster>;
  protocol?: Cluster['protocol'];
}

/** One route table on port 80: each service its own virtual host and cluster. */
export function resilienceSnapshot(version: string, svcs: Svc[]): ProxySnapshot {
  const clusters = svcs.map((s) => {
    const c = cluster(`outbound|80||${s.host}`, s.endpoints, s.protocol === undefined ? {} : { protocol: s.protocol });
    Object.assign(c.cluster, s.cluster ?? {});
    return c;
  });
  const vhosts = svcs.map((s) => ({ name: s.host, domains: [s.host, `${s.host}:80`], routes: [route(`${s.host}-r`, [], forward(`outbound|80||${s.host}`), { retries: NO_RETRIES, ...s.route })] }));
  return snapshot(version, { listeners: [listener(80, { routeTable: '80' })], tables: [table('80', vhosts)], clusters });
}

export async function startResilienceProxy(bind: string, snap: ProxySnapshot, args: string[] = []): Promise<ProxyProcess> {
  return startProxyProcess({ bind, snapshot: snap, args: ['--seed', '7', ...args] });
}

export function proxyUrl(p: ProxyProcess, path = '/'): string {
  return `http://${p.bind}:${p.ports.outbound}${path}`;
}

export interface Reply {
  status: number;
  flags: string | undefined;
  error: string | undefined;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request through the proxy; the body is read fully (a reset rejects). */
export async function send(p: ProxyProcess, host: string, opts: { path?: string; method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  const res = await request(proxyUrl(p, opts.path ?? '/'), { method: (opts.method ?? 'GET') as 'GET', headers: { host, ...opts.headers }, ...(opts.body === undefined ? {} : { body: opts.body }) });
  const body = await res.body.text();
  const h = res.headers;
  return { status: res.statusCode, flags: h['x-meshlet-flags'] as string | undefined, error: h['x-meshlet-error'] as string | undefined, body, headers: h };
}

/** Envoy-style `/stats` lines of one cluster as numbers. */
export async function clusterStatsOf(p: ProxyProcess, host: string): Promise<Record<string, number>> {
  const res = await request(`http://${p.bind}:${p.ports.admin}/stats?filter=${encodeURIComponent(`outbound|80||${host}.`)}`);
  const text = await res.body.text();
  const out: Record<string, number> = {};
  const prefix = `cluster.outbound|80||${host}.`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const [k, v] = line.slice(prefix.length).split(': ');
    out[k!] = Number(v);
  }
  return out;
}

export async function adminText(p: ProxyProcess, path: string): Promise<string> {
  const res = await request(`http://${p.bind}:${p.ports.admin}${path}`);
  return res.body.text();
}

/**
 * A real proxy process (the telemetry harness's proxy-main.ts: the proxy core `meshlet proxy`
 * runs, on a snapshot file), so the access log is on when the snapshot asks for it. Its
 * stdout lines (access log) are kept.
 */
export async function startTelemetryProxy(bind: string, snap: ProxySnapshot): Promise<ProxyProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-res-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(file, JSON.stringify(snap));
  const main = fileURLToPath(new URL('../telemetry/harness/proxy-main.ts', import.meta.url));
  const ports = { outbound: 0, inbound: 0, admin: 0, ready: 0 };
  const child = spawn(process.execPath, [main, JSON.stringify({ bind, snapshotFile: file, appHost: '127.0.0.1', statsPort: 0, ports })], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const got = await new Promise<ProxyProcess['ports']>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`telemetry proxy did not start: ${stderr}`)), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        if (line.startsWith('{"ready":true')) {
          clearTimeout(timer);
          const ready = JSON.parse(line) as { ports: ProxyProcess['ports'] };
          resolve(ready.ports);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`telemetry proxy exited with ${code}: ${stderr}`));
    });
  });
  return {
    child,
    bind,
    ports: got,
    logs,
    dir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 7_000);
      const code = await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
