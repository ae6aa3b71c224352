/**
 * The service graph page in real headless Chromium, fed by the operator plugin's own
 * scrapes of real proxies: expected nodes and edges appear, and the frontend→ratings edge
 * turns red when ratings starts failing. A screenshot goes to test/artifacts/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { launchHeadless, type HeadlessBrowser } from './harness/browser.ts';
import { serviceGraphPlugin } from '../../operator/ui/plugin.ts';
import { operatorGraphOptions } from '../../operator/ui/wiring.ts';
import { callInbound, startMesh, type Mesh } from './harness/mesh.ts';

let mesh: Mesh;
let app: FastifyInstance;
let browser: HeadlessBrowser | undefined;
let page: Page;
let uiUrl: string;
let stopLoad = false;
let load: Promise<void>;
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

type Styled = { getComputedStyle(x: unknown): { stroke: string } };

const FE_RATINGS = '.edge[data-source="wl:default/frontend-v1"][data-target="svc:ratings.default.svc.cluster.local"]';

before(async () => {
  mesh = await startMesh([
    { service: 'frontend', version: 'v1', calls: ['reviews', 'ratings'] },
    { service: 'reviews', version: 'v1', calls: [] },
    { service: 'ratings', version: 'v1', calls: [] },
  ], { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } }, 41);
  app = Fastify();
    // Wired as the operator does: targets from the connected proxies' identities (their IPs).
  const core = { proxies: { states: new Map(mesh.workloads.map((w) => [w.spec.service, { identity: { ip: w.proxyIp } }])) } };
  await app.register(serviceGraphPlugin, { ...operatorGraphOptions(core), collector: { windowMs: 4000, minIntervalMs: 400 }, refreshMs: 500 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  uiUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/ui`;
  // Bounded background load: at most 3,000 requests, stopped by the test.
  load = (async () => {
    for (let i = 0; i < 3000 && !stopLoad; i++) {
      await callInbound(mesh.byService('frontend'), `/p${i % 10}`).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  browser = await launchHeadless();
  page = browser.page;
});

after(async () => {
  stopLoad = true;
  await load;
  await browser?.close();
  await app?.close();
  await mesh?.stop();
});

test('the page shows the workloads, services and calls', async () => {
  await page.goto(uiUrl);
  await page.waitForSelector(`${FE_RATINGS}[data-health="healthy"]`, { timeout: 30_000 });
  const nodes = await page.$$eval('.node', (els) => els.map((e) => e.getAttribute('data-id')).sort());
  assert.deepEqual(nodes, ['svc:frontend.default.svc.cluster.local', 'svc:ratings.default.svc.cluster.local', 'svc:reviews.default.svc.cluster.local', 'unknown', 'wl:default/frontend-v1', 'wl:default/ratings-v1', 'wl:default/reviews-v1']);
  const edges = await page.$$eval('.edge', (els) => els.map((e) => `${e.getAttribute('data-source')} -> ${e.getAttribute('data-target')}`).sort());
  assert.deepEqual(edges, [
    'svc:frontend.default.svc.cluster.local -> wl:default/frontend-v1',
    'svc:ratings.default.svc.cluster.local -> wl:default/ratings-v1',
    'svc:reviews.default.svc.cluster.local -> wl:default/reviews-v1',
    'unknown -> svc:frontend.default.svc.cluster.local',
    'wl:default/frontend-v1 -> svc:ratings.default.svc.cluster.local',
    'wl:default/frontend-v1 -> svc:reviews.default.svc.cluster.local',
  ]);
  const text = await page.$eval(FE_RATINGS, (e) => e.textContent ?? '');
  assert.match(text, /rps · 100\.0% · p99 [\d.]+ ms/);
  assert.equal(await page.$eval(`${FE_RATINGS} line`, (e) => (globalThis as unknown as Styled).getComputedStyle(e).stroke), 'rgb(42, 157, 58)');
});

test('the edge turns red when its upstream fails', async () => {
  mesh.byService('ratings').status = 503;
  await page.waitForSelector(`${FE_RATINGS}[data-health="failing"]`, { timeout: 30_000 });
  assert.equal(await page.$eval(`${FE_RATINGS} line`, (e) => (globalThis as unknown as Styled).getComputedStyle(e).stroke), 'rgb(208, 0, 0)');
  const reviews = '.edge[data-source="wl:default/frontend-v1"][data-target="svc:reviews.default.svc.cluster.local"]';
  assert.equal(await page.$eval(reviews, (e) => e.getAttribute('data-health')), 'healthy', 'only the failing call is red');
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'service-graph.png'), fullPage: true });
});

function meshlet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('meshlet graph prints the same graph and the UI URL; exit 1 while an edge fails', async () => {
  const operator = uiUrl.replace(/\/ui$/, '');
  const r = await meshlet('graph', '--operator', operator);
  assert.equal(r.code, 1, r.stderr);
  const row = r.stdout.split('\n').find((l) => l.startsWith('frontend-v1.default') && l.includes('svc ratings.default'));
  assert.ok(row !== undefined, r.stdout);
  assert.match(row, /FAILING$/);
  assert.match(r.stdout, /^FROM +TO +REQ\/S +SUCCESS +P99 +MTLS +HEALTH/);
  assert.ok(r.stdout.includes(`UI: ${operator}/ui`));
  const j = await meshlet('graph', '--operator', operator, '-o', 'json');
  const g = JSON.parse(j.stdout) as { edges: { source: string }[]; source: string };
  assert.equal(g.source, 'proxies');
  assert.equal(g.edges.length, 6);
  const down = await meshlet('graph', '--operator', 'http://127.0.0.1:1');
  assert.equal(down.code, 3);
  assert.match(down.stderr, /MESHLET_TELEMETRY_GRAPH_UNREACHABLE/);
});
