/**
 * The service graph page in real headless Chromium against the running local demo
 * (`meshlet local` on a copy of examples/demo, own 127.0.93.x addresses): each app appears
 * once with its versions (reviews v1/v2/v3), no boxes or labels overlap, clicking
 * frontend→reviews opens the panel with the reviews VirtualService, its configured 80/20
 * split and an explain whose route is one of that VirtualService's routes, and
 * reviews→ratings turns red once the copied YAML makes ratings fail (a 100% abort 503
 * fault). Screenshots go to test/artifacts/service-graph-demo*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchHeadless, type HeadlessBrowser } from './harness/browser.ts';
import { eventually, startLocal, type LocalProcess } from '../cli/helpers/local-process.ts';
import { edgeSel, layoutProblems, nodeVersions, openEdgePanel, strokeOf as stroke } from './harness/graph-dom.ts';

let dir: string;
let local: LocalProcess | undefined;
let browser: HeadlessBrowser | undefined;
let page: Page;
let stopLoad = false;
let load: Promise<void> | undefined;
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

const FE_REVIEWS = edgeSel('app:default/frontend', 'app:default/reviews');
const REVIEWS_RATINGS = edgeSel('app:default/reviews', 'app:default/ratings');

/** GET the demo frontend app (as the demo's load does); half the calls take the premium (v3) route. */
async function product(i: number): Promise<void> {
  const headers: Record<string, string> = i % 2 === 0 ? { 'user-tier': 'premium' } : {};
  const res = await fetch('http://127.0.93.10:9080/product', { headers, signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-graph-demo-'));
  cpSync(new URL('../../examples/demo', import.meta.url).pathname, join(dir, 'demo'), { recursive: true });
  const wl = join(dir, 'demo', 'mesh', 'workloads.yaml');
  writeFileSync(wl, readFileSync(wl, 'utf8').replaceAll('127.0.77.', '127.0.93.'));
  // The panel links calls to their traces in this Jaeger UI (never fetched here).
  process.env.MESHLET_TRACING_URL = 'http://127.0.0.1:16686';
  local = await startLocal(join(dir, 'demo', 'mesh'), ['--seed', '7']);
  delete process.env.MESHLET_TRACING_URL;
  const up = await eventually(async () => (await fetch('http://127.0.93.10:9080/product', { signal: AbortSignal.timeout(5000) })).status === 200, 150, 200);
  assert.ok(up, `the demo frontend never answered:\n${local.output()}`);
  // Bounded background load: at most 4,000 requests, stopped by after().
  load = (async () => {
    for (let i = 0; i < 4000 && !stopLoad; i++) {
      await product(i).catch(() => undefined);
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
  await local?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const strokeOf = (selector: string): Promise<string> => stroke(page, selector);

test('the demo\'s graph shows each app once with its versions, and nothing overlaps', async () => {
  await page.goto(`${local!.operatorUrl}/ui`);
  await page.waitForSelector(`${REVIEWS_RATINGS}[data-health="healthy"]`, { timeout: 30_000 });
  await page.waitForSelector(`${FE_REVIEWS}[data-health="healthy"]`, { timeout: 30_000 });
  const nodes = await nodeVersions(page);
  assert.deepEqual(nodes['app:default/frontend'], ['v1']);
  assert.deepEqual(nodes['app:default/reviews'], ['v1', 'v2', 'v3'], JSON.stringify(nodes));
  assert.deepEqual(nodes['app:default/ratings'], ['v1']);
  const edges = await page.$$eval('.edge', (els) => els.map((e) => `${e.getAttribute('data-source')} -> ${e.getAttribute('data-target')}`).sort());
  for (const e of ['app:default/frontend -> app:default/reviews', 'app:default/reviews -> app:default/ratings']) assert.ok(edges.includes(e), `edge ${e} missing: ${JSON.stringify(edges)}`);
  assert.match(await page.$eval(`${REVIEWS_RATINGS} .label`, (e) => e.textContent ?? ''), /[\d.]+ rps · 100\.0%/);
  assert.equal(await page.$eval(REVIEWS_RATINGS, (e) => e.getAttribute('data-mtls')), 'full', 'the demo runs mutual TLS');
  assert.equal(await strokeOf(REVIEWS_RATINGS), 'rgb(42, 157, 58)');
  assert.deepEqual(await layoutProblems(page), []);
  // The group box is the namespace.
  assert.deepEqual(await page.$$eval('.group', (els) => els.map((e) => e.getAttribute('data-namespace'))), ['default']);
});

test('clicking frontend→reviews opens the panel with the reviews VirtualService, its split and an explain of its route', async () => {
  await openEdgePanel(page, FE_REVIEWS);
  assert.equal(await page.$eval('#panel-title', (e) => e.textContent), 'frontend.default → reviews.default');
  const refs = await page.$$eval('#panel a.config-ref', (els) => els.map((e) => `${e.getAttribute('data-kind')} ${e.getAttribute('data-name')}`));
  assert.ok(refs.includes('VirtualService reviews') && refs.includes('DestinationRule reviews'), JSON.stringify(refs));
  const route = await page.$eval('#panel code.explain-route', (e) => e.textContent);
  // No user-tier header: the sample request takes the VirtualService's canary route.
  assert.equal(route, 'canary');
  const configured = await page.$$eval('#panel .split-table tr[data-version]', (els) => els.map((e) => `${e.getAttribute('data-version')}: ${e.children[2]?.textContent ?? ''}`));
  assert.ok(configured.includes('v1: 80% (canary)') && configured.includes('v2: 20% (canary)') && configured.includes('v3: 100% (premium)'), JSON.stringify(configured));
  const traces = new URL((await page.$eval('#panel a.traces-link', (e) => e.getAttribute('href')))!);
  assert.equal(`${traces.origin}${traces.pathname}`, 'http://127.0.0.1:16686/search');
  assert.equal(traces.searchParams.get('service'), 'frontend.default');
  assert.deepEqual(JSON.parse(traces.searchParams.get('tags')!), { upstream_cluster: 'outbound|9080||reviews.default.svc.cluster.local' });
  const yamlHref = await page.$eval('#panel a.config-ref[data-kind="VirtualService"]', (e) => e.getAttribute('href'));
  const yaml = await (await fetch(`${local!.operatorUrl}${yamlHref}`)).text();
  assert.match(yaml, /kind: VirtualService[\s\S]*name: canary/);
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'service-graph-demo-panel.png'), fullPage: true });
});

test('a policy aimed at ratings that selects nothing puts an analyze badge on ratings; its panel lists the finding', async () => {
  writeFileSync(join(dir, 'demo', 'mesh', 'ratings-canary.yaml'), `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ratings-canary, namespace: default}
spec:
  selector: {matchLabels: {app: ratings, version: v9}}
  action: DENY
  rules: [{from: [{source: {principals: [nobody]}}]}]
`);
  const ratings = '.node[data-id="app:default/ratings"]';
  await page.waitForSelector(`${ratings} .badge.finding`, { timeout: 30_000 });
  assert.equal(await page.$eval(`${ratings} .badge.finding text`, (e) => e.textContent), '1');
  await page.click(`${ratings} .name`);
  await page.waitForSelector('#panel[data-kind="node"][data-loaded="true"]', { timeout: 15_000 });
  assert.match(await page.$eval('#panel li.finding[data-code="MESHLET_ANALYZE_SELECTS_NOTHING"]', (e) => e.textContent ?? ''), /AuthorizationPolicy default\/ratings-canary/);
  await page.screenshot({ path: join(artifacts, 'service-graph-demo-finding.png'), fullPage: true });
});

test('reviews→ratings turns red when the copied YAML aborts every ratings call with 503', async () => {
  const file = join(dir, 'demo', 'mesh', 'ratings-resilience.yaml');
  const before = readFileSync(file, 'utf8');
  const faulted = before.replace(/delay:\n(\s+)percentage: \{value: 10\}\n\s+fixedDelay: 200ms/, 'abort:\n$1percentage: {value: 100}\n$1httpStatus: 503');
  assert.notEqual(faulted, before, 'the demo\'s ratings fault block changed shape');
  writeFileSync(file, faulted);
  await page.waitForSelector(`${REVIEWS_RATINGS}[data-health="failing"]`, { timeout: 30_000 });
  assert.equal(await strokeOf(REVIEWS_RATINGS), 'rgb(208, 0, 0)');
  // reviews answers 200 with "(ratings unavailable)", so the frontend's call stays healthy.
  assert.equal(await page.$eval(FE_REVIEWS, (e) => e.getAttribute('data-health')), 'healthy', 'only the failing call is red');
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'service-graph-demo.png'), fullPage: true });
});
