/**
 * The service graph page in real headless Chromium against the running local demo
 * (`meshlet local` on a copy of examples/demo, own 127.0.93.x addresses): the demo's nodes
 * and edges appear, and reviews→ratings turns red once the copied YAML makes ratings fail
 * (a 100% abort 503 fault). A screenshot goes to test/artifacts/service-graph-demo.png.
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

let dir: string;
let local: LocalProcess | undefined;
let browser: HeadlessBrowser | undefined;
let page: Page;
let stopLoad = false;
let load: Promise<void> | undefined;
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));

type Styled = { getComputedStyle(x: unknown): { stroke: string } };

const edge = (from: string, to: string): string => `.edge[data-source="${from}"][data-target="${to}"]`;
const FE_REVIEWS = edge('wl:default/frontend', 'svc:reviews.default.svc.cluster.local');
const REVIEWS_RATINGS = edge('wl:default/reviews', 'svc:ratings.default.svc.cluster.local');

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
  local = await startLocal(join(dir, 'demo', 'mesh'), ['--seed', '7']);
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

async function strokeOf(selector: string): Promise<string> {
  return page.$eval(`${selector} line`, (e) => (globalThis as unknown as Styled).getComputedStyle(e).stroke);
}

test('the demo\'s graph shows frontend, reviews and ratings and their calls', async () => {
  await page.goto(`${local!.operatorUrl}/ui`);
  await page.waitForSelector(`${REVIEWS_RATINGS}[data-health="healthy"]`, { timeout: 30_000 });
  await page.waitForSelector(`${FE_REVIEWS}[data-health="healthy"]`, { timeout: 30_000 });
  const nodes = await page.$$eval('.node', (els) => els.map((e) => e.getAttribute('data-id')).sort());
  for (const id of ['svc:ratings.default.svc.cluster.local', 'svc:reviews.default.svc.cluster.local', 'wl:default/frontend', 'wl:default/ratings', 'wl:default/reviews']) {
    assert.ok(nodes.includes(id), `node ${id} missing: ${JSON.stringify(nodes)}`);
  }
  const edges = await page.$$eval('.edge', (els) => els.map((e) => `${e.getAttribute('data-source')} -> ${e.getAttribute('data-target')}`).sort());
  for (const e of [
    'wl:default/frontend -> svc:reviews.default.svc.cluster.local',
    'svc:reviews.default.svc.cluster.local -> wl:default/reviews',
    'wl:default/reviews -> svc:ratings.default.svc.cluster.local',
    'svc:ratings.default.svc.cluster.local -> wl:default/ratings',
  ]) assert.ok(edges.includes(e), `edge ${e} missing: ${JSON.stringify(edges)}`);
  assert.match(await page.$eval(REVIEWS_RATINGS, (e) => e.textContent ?? ''), /rps · 100\.0% · p99 [\d.]+ ms/);
  assert.equal(await strokeOf(REVIEWS_RATINGS), 'rgb(42, 157, 58)');
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
