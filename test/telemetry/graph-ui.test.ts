/**
 * The service graph page in real headless Chromium, fed by the operator plugin's own
 * scrapes of real proxies: each app appears once with its version, nothing overlaps, the
 * frontend→ratings edge turns red when ratings starts failing, a click opens the side panel
 * with the edge's figures, codes and charts. Screenshots go to test/artifacts/.
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
import { edgeSel, layoutProblems, nodeVersions, openEdgePanel, strokeOf } from './harness/graph-dom.ts';

let mesh: Mesh;
let app: FastifyInstance;
let browser: HeadlessBrowser | undefined;
let page: Page;
let uiUrl: string;
let stopLoad = false;
let load: Promise<void>;
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

const FE_RATINGS = edgeSel('app:default/frontend', 'app:default/ratings');
const FE_REVIEWS = edgeSel('app:default/frontend', 'app:default/reviews');

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

test('the page shows each app once with its version, calls between apps, nothing overlapping', async () => {
  await page.goto(uiUrl);
  await page.waitForSelector(`${FE_RATINGS}[data-health="healthy"]`, { timeout: 30_000 });
  assert.deepEqual(await nodeVersions(page), { 'app:default/frontend': ['v1'], 'app:default/ratings': ['v1'], 'app:default/reviews': ['v1'], unknown: [] });
  const edges = await page.$$eval('.edge', (els) => els.map((e) => `${e.getAttribute('data-source')} -> ${e.getAttribute('data-target')}`).sort());
  assert.deepEqual(edges, ['app:default/frontend -> app:default/ratings', 'app:default/frontend -> app:default/reviews', 'unknown -> app:default/frontend']);
  assert.match(await page.$eval(`${FE_RATINGS} .label`, (e) => e.textContent ?? ''), /[\d.]+ rps · 100\.0%/);
  assert.equal(await strokeOf(page, FE_RATINGS), 'rgb(42, 157, 58)');
  assert.deepEqual(await layoutProblems(page), []);
  // The window selector re-asks for the same graph over 5 minutes.
  await page.selectOption('#window', '5m');
  await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(i: string): { textContent: string } } }).document.getElementById('status').textContent.includes('last 5m'));
});

test('the edge turns red when its upstream fails; the panel shows its codes and charts', async () => {
  mesh.byService('ratings').status = 503;
  await page.waitForSelector(`${FE_RATINGS}[data-health="failing"]`, { timeout: 30_000 });
  assert.equal(await strokeOf(page, FE_RATINGS), 'rgb(208, 0, 0)');
  assert.equal(await page.$eval(FE_REVIEWS, (e) => e.getAttribute('data-health')), 'healthy', 'only the failing call is red');
  await openEdgePanel(page, FE_RATINGS);
  assert.equal(await page.$eval('#panel-title', (e) => e.textContent), 'frontend.default → ratings.default');
  await page.waitForSelector('#panel tr.code[data-code="503"]', { timeout: 15_000 });
  assert.equal(await page.$$eval('#panel .chart', (els) => els.length), 3, 'rate, success and latency charts');
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

test('meshlet graph prints the same graph as a tree and a table, and the UI URL; exit 1 while an edge fails', async () => {
  const operator = uiUrl.replace(/\/ui$/, '');
  const r = await meshlet('graph', '--operator', operator);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'namespace default');
  assert.ok(lines.some((l) => /^├─ frontend \[v1\]/.test(l)), r.stdout);
  const call = lines.find((l) => l.includes('→ ratings.default'));
  assert.match(call ?? '', /rps {2}\d+\.\d% {2}p99 [\d.]+ms {2}plaintext {2}FAILING/, r.stdout);
  assert.ok(r.stdout.includes(`UI: ${operator}/ui`));
  const t = await meshlet('graph', '--operator', operator, '-o', 'table', '--window', '5m');
  assert.match(t.stdout, /^FROM +TO +REQ\/S +SUCCESS +P99 +MTLS +HEALTH/);
  assert.match(t.stdout.split('\n').find((l) => l.startsWith('frontend.default') && l.includes('ratings.default [v1]')) ?? '', /FAILING$/);
  const j = await meshlet('graph', '--operator', operator, '-o', 'json');
  const g = JSON.parse(j.stdout) as { edges: { source: string }[]; source: string };
  assert.equal(g.source, 'proxies');
  assert.equal(g.edges.length, 3);
  const open = await meshlet('graph', '--operator', operator, '--open');
  assert.equal(open.code, 0);
  assert.equal(open.stdout.split('\n')[0], `${operator}/ui?window=1m`);
  const bad = await meshlet('graph', '--operator', operator, '--window', '2m');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /MESHLET_TELEMETRY_GRAPH_WINDOW/);
  const down = await meshlet('graph', '--operator', 'http://127.0.0.1:1');
  assert.equal(down.code, 3);
  assert.match(down.stderr, /MESHLET_TELEMETRY_GRAPH_UNREACHABLE/);
});
