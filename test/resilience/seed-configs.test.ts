/**
 * The seed's example configs, end to end: Istio YAML → the operator's translate() → a
 * snapshot file → a real proxy process → upstreams that fail on purpose.
 *   VirtualService ratings: retries {attempts 3, perTryTimeout 2s, retryOn 5xx,reset,connect-failure},
 *     timeout 5s, fault.delay {percentage 10, fixedDelay 5s}
 *   DestinationRule reviews: connectionPool {tcp.maxConnections 100, http.http1MaxPendingRequests 50,
 *     http.maxRequestsPerConnection 2}, outlierDetection {consecutiveErrors 5, interval 30s, baseEjectionTime 30s}
 * (maxEjectionPercent defaults to 10%, so reviews has 10 endpoints: one may be ejected.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { validateSnapshot } from '../../common/snapshot-validate.ts';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { parseYamlObjects } from '../../operator/sources/yaml-docs.ts';
import { Store } from '../../operator/store/store.ts';
import { resolveProxy, translate, type ProxyClaim } from '../../operator/translate/index.ts';
import { buildWorld } from '../../operator/world/build.ts';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import type { ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { startProxyProcess } from '../proxy/helpers/proxy-process.ts';

type Mode = 'ok' | '503' | 'stall' | 'hold';

interface App {
  server: Server;
  address: string;
  hits: number;
  /** Most requests seen on one connection. */
  maxPerSocket: number;
  mode: Mode;
}

async function startApp(address: string, port: number): Promise<App> {
  const app: App = { server: undefined as unknown as Server, address, hits: 0, maxPerSocket: 0, mode: 'ok' };
  app.server = createServer((req, res) => {
    app.hits++;
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    app.maxPerSocket = Math.max(app.maxPerSocket, n);
    req.resume();
    if (app.mode === '503') {
      res.writeHead(503);
      res.end('sick');
    } else if (app.mode === 'stall') {
      // never answers
    } else if (app.mode === 'hold') {
      held.push(res);
    } else {
      res.end(`ok from ${address}`);
    }
  });
  await new Promise<void>((r) => app.server.listen(port, address, r));
  return app;
}

const held: ServerResponse[] = [];
const perSocket = new WeakMap<object, number>();

function yamlOf(ratings: App[], reviews: App[], port: number): string {
  const we = (name: string, app: string, a: App) => `---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: ${name}, namespace: default}\nspec: {address: ${a.address}, labels: {app: ${app}}}\n`;
  return `
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: default}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080, targetPort: ${port}}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080, targetPort: ${port}}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: client, namespace: default}
spec: {address: 127.0.0.1, labels: {app: client}, serviceAccount: client}
${ratings.map((a, i) => we(`ratings-${i}`, 'ratings', a)).join('')}${reviews.map((a, i) => we(`reviews-${i}`, 'reviews', a)).join('')}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,reset,connect-failure"}
    timeout: 5s
    fault: {delay: {percentage: {value: 10}, fixedDelay: 5s}}
    route: [{destination: {host: ratings}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 100}, http: {http1MaxPendingRequests: 50, maxRequestsPerConnection: 2}}
    outlierDetection: {consecutiveErrors: 5, interval: 30s, baseEjectionTime: 30s}
`;
}

function translateYaml(yaml: string): ProxySnapshot {
  const parsed = parseYamlObjects(yaml, 'seed.yaml');
  assert.deepEqual(parsed.problems, []);
  const store = new Store();
  store.replace(parsed.objects.map((o) => ({ object: o.object, origin: o.origin })), () => true);
  const world = buildWorld(store.acceptedObjects());
  return translate(world, resolveProxy(world, { name: 'client', namespace: 'default' } as ProxyClaim));
}

async function until(pred: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('seed configs: YAML → translate → real proxy', () => {
  const ratings: App[] = [];
  const reviews: App[] = [];
  let snap: ProxySnapshot;
  let proxy: ProxyProcess;
  const call = async (host: string): Promise<{ status: number; flags: string | undefined; body: string }> => {
    const res = await request(`http://${proxy.bind}:${proxy.ports.outbound}/`, { headers: { host: `${host}:9080` } });
    return { status: res.statusCode, flags: res.headers['x-meshlet-flags'] as string | undefined, body: await res.body.text() };
  };
  const stat = async (svc: string, name: string): Promise<number> => {
    const text = await (await request(`http://${proxy.bind}:${proxy.ports.admin}/stats`)).body.text();
    const m = new RegExp(`^cluster\\.outbound\\|9080\\|\\|${svc}\\.default\\.svc\\.cluster\\.local\\.${name}: (\\d+)$`, 'm').exec(text);
    return Number(m?.[1] ?? NaN);
  };

  before(async () => {
    const block = 76;
    const first = await startApp(allocAddress(block), 0);
    const port = (first.server.address() as AddressInfo).port;
    ratings.push(first);
    for (let i = 0; i < 10; i++) reviews.push(await startApp(allocAddress(block), port));
    snap = translateYaml(yamlOf(ratings, reviews, port));
    const v = validateSnapshot(snap);
    assert.ok(v.ok, JSON.stringify(v.ok ? [] : v.errors.slice(0, 3)));
    proxy = await startProxyProcess({ bind: allocAddress(block), snapshot: snap, args: ['--seed', '11'] });
  });

  after(async () => {
    for (const r of held.splice(0)) r.destroy();
    await proxy?.stop();
    for (const a of [...ratings, ...reviews]) {
      a.server.closeAllConnections();
      await new Promise<void>((r) => a.server.close(() => r()));
    }
  });

  it('translates to the snapshot fields the proxy reads', () => {
    const route = snap.routes.flatMap((t) => t.virtualHosts).find((v) => v.name.startsWith('ratings.'))!.routes[0]!;
    assert.deepEqual({ timeoutMs: route.timeoutMs, retries: route.retries, fault: route.fault }, {
      timeoutMs: 5000,
      retries: { attempts: 3, perTryTimeoutMs: 2000, retryOn: ['5xx', 'reset', 'connect-failure'], retryRemoteLocalities: false, backoffBaseMs: 25 },
      fault: { delay: { fixedDelayMs: 5000, percentage: 10 } },
    });
    const cl = snap.clusters.find((c) => c.service.startsWith('reviews.'))!;
    assert.equal(cl.connectionPool.maxConnections, 100);
    assert.equal(cl.connectionPool.http1MaxPendingRequests, 50);
    assert.equal(cl.connectionPool.maxRequestsPerConnection, 2);
    assert.equal(cl.outlierDetection?.consecutive5xxErrors, 5, 'consecutiveErrors is the deprecated alias');
    assert.equal(cl.outlierDetection?.intervalMs, 30_000);
    assert.equal(cl.outlierDetection?.baseEjectionTimeMs, 30_000);
  });

  it('retries: attempts 3 on 5xx → the upstream is tried exactly 4 times, then 503 URX', async () => {
    const app = ratings[0]!;
    app.mode = '503';
    app.hits = 0;
    const r = await call('ratings');
    assert.equal(r.status, 503);
    assert.equal(r.flags, 'URX');
    assert.equal(app.hits, 4);
  });

  it('timeout 5s with perTryTimeout 2s: tries at 0, 2 and 4 s, then 504 UT at 5 s', async () => {
    const app = ratings[0]!;
    app.mode = 'stall';
    app.hits = 0;
    const r = await call('ratings');
    assert.equal(r.status, 504);
    assert.match(r.flags ?? '', /^UT/);
    assert.equal(app.hits, 3);
  });

  it('fault.delay 10% of 5 s: about one request in ten is delayed (200 requests, bounded)', async () => {
    ratings[0]!.mode = 'ok';
    const before = await stat('ratings', 'fault_delays_injected');
    const results = await Promise.all(Array.from({ length: 200 }, () => call('ratings')));
    assert.ok(results.every((r) => r.status === 200));
    const delayed = (await stat('ratings', 'fault_delays_injected')) - before;
    // Binomial(200, 0.1): mean 20, sd 4.2.
    assert.ok(delayed >= 5 && delayed <= 40, `delayed ${delayed}`);
  });

  it('maxConnections 100 + http1MaxPendingRequests 50: of 160 concurrent, exactly 10 get 503 UO', async () => {
    for (const a of reviews) a.mode = 'hold';
    held.length = 0;
    const replies: { status: number; flags: string | undefined }[] = [];
    const all = Array.from({ length: 160 }, () => call('reviews').then((r) => (replies.push(r), r)));
    await until(() => replies.length === 10 && held.length === 100, '10 rejections and 100 held');
    assert.ok(replies.every((r) => r.status === 503 && r.flags === 'UO'));
    for (const a of reviews) a.mode = 'ok';
    for (const r of held.splice(0)) r.end('ok');
    await until(() => held.length === 50 || replies.length === 160, 'pending drained');
    for (const r of held.splice(0)) r.end('ok');
    const results = await Promise.all(all);
    assert.equal(results.filter((r) => r.status === 200).length, 150);
  });

  it('maxRequestsPerConnection 2: no upstream connection carries more than 2 requests', async () => {
    const hits = () => reviews.reduce((s, a) => s + a.hits, 0);
    const h0 = hits();
    for (let i = 0; i < 60; i++) assert.equal((await call('reviews')).status, 200);
    assert.equal(hits() - h0, 60);
    assert.equal(Math.max(...reviews.map((a) => a.maxPerSocket)), 2, 'keep-alive reuse happened, and stopped at 2');
  });

  it('outlierDetection consecutiveErrors 5: the failing endpoint is ejected and gets no more traffic', async () => {
    const sick = reviews[3]!;
    sick.mode = '503';
    for (let i = 0; i < 100 && (await stat('reviews', 'outlier_detection_ejections_active')) === 0; i++) await call('reviews');
    assert.equal(await stat('reviews', 'outlier_detection_ejections_enforced_consecutive_5xx'), 1);
    const hits = sick.hits;
    for (let i = 0; i < 30; i++) assert.equal((await call('reviews')).status, 200, 'Istio default retries cover the rest');
    assert.equal(sick.hits, hits, 'ejected for 30 s: no traffic');
  });
});
