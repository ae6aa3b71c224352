/**
 * Starts a real `meshlet proxy` for the benchmark, pinned to a CPU, serving a snapshot that
 * routes Host `upstream.bench.svc.cluster.local` to one endpoint. With `asServer`, the
 * proxy instead plays the server-side sidecar: its inbound listener forwards to the app.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxySnapshot } from '../../../common/snapshot.ts';
import type { Running } from './reference-proxies.ts';
import { pickEntry } from '../../../bin/entry.js';

const HOST = 'upstream.bench.svc.cluster.local';
const root = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(root, 'bin', 'meshlet');

/**
 * Makes bin/meshlet run the compiled proxy (what the image runs): builds dist/ when it is
 * missing or older than a source. Returns the form the proxies will run. Do not edit sources
 * during a run: bin/meshlet would switch the proxies started after that to the sources.
 */
export function ensureCompiled(): 'dist' | 'source' {
  if (pickEntry(root, {}).form === 'source') spawnSync(process.execPath, [join(root, 'scripts', 'build-dist.ts')], { stdio: 'inherit', timeout: 300_000 });
  return pickEntry(root, {}).form;
}

export interface MeshletProxyOptions {
  cpu: number;
  bind: string;
  /** `ip:port` the proxy forwards to (the app, or the next proxy). */
  upstream: string;
  /** Host header the next hop expects (unused by a server-side proxy). */
  upstreamHost?: string;
  /** Extra flags for `meshlet proxy`. */
  flags?: string[];
  /** Extra `node` flags, e.g. V8 heap sizing. */
  nodeFlags?: string[];
  /** Extra environment, e.g. MESHLET_PROXY_NODE_FLAGS (replaces bin/meshlet's V8 flags). */
  env?: Record<string, string>;
  /** Mesh mTLS: this proxy's workload cert flags, and the server identity its upstream must present (client side). */
  mtls?: { proxyArgs: string[]; identity: string; peerIdentity?: string };
  /** Replaces parts of the snapshot's inbound security (e.g. RequestAuthentication + AuthorizationPolicy). */
  security?: Partial<ProxySnapshot['security']>;
}

export interface StartedProxy {
  running: Running;
  /** URL the load generator sends to. */
  url: string;
  host: string;
  /** `ip:port` of the inbound listener, for chaining a client proxy to it. */
  listenAddress: string;
}

const prov = { kind: 'Service', namespace: 'bench', name: 'upstream' };
const CLUSTER = `outbound|80||${HOST}`;

/**
 * With `mtls`: the proxy's own SPIFFE ID; a client proxy's endpoint carries the server's
 * identity (auto mTLS, as the operator's translation sets it), a server proxy is STRICT.
 */
export function benchSnapshot(upstream: string, mtls?: { identity: string; peerIdentity?: string }): ProxySnapshot {
  const [address = '', port = '0'] = upstream.split(':');
  const endpoint = { address, port: Number(port), labels: { app: 'upstream' }, weight: 1, healthy: true, ...(mtls?.peerIdentity === undefined ? {} : { identity: mtls.peerIdentity }) };
  return {
    version: `bench-${upstream}`,
    proxy: { id: 'bench.bench', namespace: 'bench', workload: 'bench', serviceAccount: 'bench', labels: { app: 'bench' }, ip: '127.0.0.1', spiffeId: mtls?.identity ?? 'spiffe://cluster.local/ns/bench/sa/bench' },
    listeners: [
      { name: 'outbound|80', direction: 'outbound', address: '0.0.0.0', port: 80, protocol: 'http', routeTable: '80', provenance: prov },
      { name: 'inbound|80', direction: 'inbound', address: '0.0.0.0', port: 80, protocol: 'http', appPort: Number(port), provenance: prov },
    ],
    routes: [{ name: '80', provenance: prov, virtualHosts: [{ name: `${HOST}:80`, domains: [HOST, `${HOST}:80`], provenance: prov, routes: [{ name: 'default', match: [], action: { kind: 'forward', destinations: [{ cluster: CLUSTER, weight: 100 }] }, timeoutMs: 0, retries: { attempts: 2, perTryTimeoutMs: 0, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', '503'], retryRemoteLocalities: false, backoffBaseMs: 25 }, provenance: prov }] }] }],
    clusters: [{ name: CLUSTER, service: HOST, port: 80, protocol: 'http', loadBalancer: { policy: 'ROUND_ROBIN' }, connectionPool: { maxConnections: 4294967295, connectTimeoutMs: 10000, http1MaxPendingRequests: 4294967295, http2MaxRequests: 4294967295, maxRequestsPerConnection: 0, maxRetries: 4294967295, idleTimeoutMs: 3600000, maxConcurrentStreams: 2147483647 }, tls: { mode: mtls?.peerIdentity === undefined ? 'DISABLE' : 'AUTO' }, endpointSet: CLUSTER, provenance: prov }],
    endpoints: [{ name: CLUSTER, provenance: prov, endpoints: [endpoint] }],
    security: { peerAuthentication: { mode: mtls === undefined ? 'PERMISSIVE' : 'STRICT', ports: {}, provenance: { kind: 'default', namespace: '', name: 'mesh' } }, authorization: [] },
    telemetry: { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } },
  };
}

export async function startMeshletProxy(o: MeshletProxyOptions & { asServer?: boolean }): Promise<StartedProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-bench-proxy-'));
  const file = join(dir, 'snapshot.json');
  const snap = benchSnapshot(o.upstream, o.mtls);
  if (o.security !== undefined) snap.security = { ...snap.security, ...o.security };
  writeFileSync(file, JSON.stringify(snap));
  const [appHost = '127.0.0.1'] = o.upstream.split(':');
  const args = ['-c', String(o.cpu), process.execPath, ...(o.nodeFlags ?? []), bin, 'proxy', '--config-file', file, '--bind', o.bind, '--admin-address', o.bind,
    '--outbound-port', '15001', '--inbound-port', '15006', '--admin-port', '15000', '--ready-port', '15021', '--stats-port', '15090',
    '--app-host', appHost, '--log-level', 'warn', ...(o.mtls?.proxyArgs ?? []), ...(o.flags ?? [])];
  // BENCH_PROXY_STDOUT_DIR keeps each proxy's stdout (e.g. V8's --trace-gc lines) in <dir>/<bind>.log.
  const outDir = process.env.BENCH_PROXY_STDOUT_DIR;
  const stdout = outDir === undefined ? 'ignore' : openSync(join(outDir, `${o.bind}.log`), 'w');
  const proc = spawn('taskset', args, { stdio: ['ignore', stdout, 'inherit'], env: { ...process.env, ...o.env } });
  const running: Running = {
    proc,
    pids: () => [proc.pid ?? 0],
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
  // Readiness on 15021 means config applied and listeners up.
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://${o.bind}:15021/healthz/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`meshlet proxy exited with ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return o.asServer === true
    ? { running, url: `http://${o.bind}:15006/`, host: HOST, listenAddress: `${o.bind}:15006` }
    : { running, url: `http://${o.bind}:15001/`, host: o.upstreamHost ?? HOST, listenAddress: `${o.bind}:15006` };
}
