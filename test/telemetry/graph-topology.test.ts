/**
 * The service graph page in real headless Chromium on a generated 30-service mesh with
 * branches (a tree of calls plus cross links, three services with two versions): real
 * proxies, the operator plugin's own scrapes. Every app appears once with its versions, the
 * layout is layered (callers left of what they call), no node boxes overlap and no edge
 * label lies on a node; when one deep service starts failing exactly its incoming call turns
 * red; clicking that call opens the panel. Screenshots go to test/artifacts/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { serviceGraphPlugin } from '../../operator/ui/plugin.ts';
import { operatorGraphOptions } from '../../operator/ui/wiring.ts';
import { launchHeadless, type HeadlessBrowser } from './harness/browser.ts';
import { edgeSel, layoutProblems, nodeVersions, openEdgePanel, strokeOf } from './harness/graph-dom.ts';
import { callInbound, startMesh, type Mesh, type WorkloadSpec } from './harness/mesh.ts';

const N = 30;
const name = (i: number): string => `svc${String(i).padStart(2, '0')}`;
/** Each service calls its three children in a ternary tree, and a few call across branches. */
function topology(): WorkloadSpec[] {
  const cross: Record<number, number[]> = { 4: [20], 7: [11], 2: [27] };
  const specs: WorkloadSpec[] = [];
  for (let i = 0; i < N; i++) {
    const calls = [3 * i + 1, 3 * i + 2, 3 * i + 3].filter((c) => c < N).concat(cross[i] ?? []).map(name);
    specs.push({ service: name(i), version: 'v1', calls });
    if (i === 1 || i === 5 || i === 13) specs.push({ service: name(i), version: 'v2', calls });
  }
  return specs;
}

let mesh: Mesh;
let app: FastifyInstance;
let browser: HeadlessBrowser | undefined;
let page: Page;
let uiUrl: string;
let stopLoad = false;
let load: Promise<void> | undefined;
const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));
const specs = topology();

before(async () => {
  const net = allocAddress(89).split('.').slice(0, 3).join('.');
  mesh = await startMesh(specs, { metrics: true, accessLog: false, tracing: { samplingPercent: 0 } }, 1, net);
  app = Fastify();
  const core = { proxies: { states: new Map(mesh.workloads.map((w) => [`${w.spec.service}-${w.spec.version}`, { identity: { ip: w.proxyIp } }])) } };
  await app.register(serviceGraphPlugin, { ...operatorGraphOptions(core), collector: { windowMs: 6000, minIntervalMs: 500 }, refreshMs: 1000 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  uiUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/ui`;
  // Bounded load: at most 1,500 requests to the root (each fans out over the whole tree).
  load = (async () => {
    for (let i = 0; i < 1500 && !stopLoad; i++) {
      await callInbound(mesh.byService(name(0)), `/t${i % 5}`).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  browser = await launchHeadless();
  page = browser.page;
  await page.setViewportSize({ width: 1600, height: 1000 });
});

after(async () => {
  stopLoad = true;
  await load;
  await browser?.close();
  await app?.close();
  await mesh?.stop();
});

test('30 apps, each once with its versions, layered and without overlaps', async () => {
  await page.goto(uiUrl);
  // The deepest leaf has traffic once the whole tree has been walked.
  await page.waitForSelector(`${edgeSel(`app:default/${name(9)}`, `app:default/${name(28)}`)}[data-health="healthy"]`, { timeout: 60_000 });
  const nodes = await nodeVersions(page);
  for (let i = 0; i < N; i++) {
    const want = i === 1 || i === 5 || i === 13 ? ['v1', 'v2'] : ['v1'];
    assert.deepEqual(nodes[`app:default/${name(i)}`], want, `${name(i)}: ${JSON.stringify(nodes)}`);
  }
  assert.deepEqual(Object.keys(nodes).filter((id) => id.startsWith('app:')).length, N);
  const edges = await page.$$eval('.edge', (els) => els.length);
  assert.equal(edges, N - 1 + 3 + 1, 'tree calls, cross calls, and the caller outside the mesh');
  assert.deepEqual(await layoutProblems(page), []);
  // Layered: every caller's box is left of what it calls.
  const x = await page.$$eval('.node', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-id'), (e as unknown as { getBoundingClientRect(): { x: number } }).getBoundingClientRect().x])));
  for (const s of specs) for (const c of s.calls) assert.ok(x[`app:default/${s.service}`]! < x[`app:default/${c}`]!, `${s.service} left of ${c}`);
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'service-graph-30.png'), fullPage: true });
});

test('a failing deep service turns exactly its incoming call red; clicking it opens the panel', async () => {
  const failing = name(17);
  const caller = name(5);
  for (const w of mesh.workloads) if (w.spec.service === failing) w.status = 503;
  const sel = edgeSel(`app:default/${caller}`, `app:default/${failing}`);
  await page.waitForSelector(`${sel}[data-health="failing"]`, { timeout: 30_000 });
  assert.equal(await strokeOf(page, sel), 'rgb(208, 0, 0)');
  const red = await page.$$eval('.edge[data-health="failing"]', (els) => els.map((e) => e.getAttribute('data-id')));
  assert.deepEqual(red, [`app:default/${caller}>app:default/${failing}`]);
  await openEdgePanel(page, sel);
  assert.equal(await page.$eval('#panel-title', (e) => e.textContent), `${caller}.default → ${failing}.default`);
  await page.waitForSelector('#panel tr.code[data-code="503"]');
  await page.screenshot({ path: join(artifacts, 'service-graph-30-panel.png'), fullPage: true });
});
