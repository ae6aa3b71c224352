/**
 * Service graph render time in headless Chromium: a generated 100-app / 300-call graph
 * (layered, branches and cross links, a third of the apps with two or three versions, five
 * namespaces) is handed to the page's own draw and update code (served by the operator
 * plugin, dagre bundled), timed inside the page with performance.now(): the dagre layout
 * alone, and layout + SVG + figures. The first render is cold (JIT); the median is over
 * the next runs. Goal: a full render under 1 s.
 */
import Fastify from 'fastify';
import { launchHeadless } from '../telemetry/harness/browser.ts';
import { buildGraph, type Row } from '../../operator/ui/graph-build.ts';
import { serviceGraphPlugin } from '../../operator/ui/plugin.ts';
import type { BenchResult } from './types.ts';

const APPS = 100;
const CALLS = 300;
const RUNS = 7;

/** A deterministic layered graph: apps in 8 layers, each call from a layer to a deeper one. */
export function generatedRows(apps = APPS, calls = CALLS): Row[] {
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const layer = (i: number): number => Math.floor((i * 8) / apps);
  const ns = (i: number): string => `team${i % 5}`;
  const versions = (i: number): string[] => (i % 3 === 0 ? ['v1', 'v2'] : i % 7 === 0 ? ['v1', 'v2', 'v3'] : ['v1']);
  const rows: Row[] = [];
  const seen = new Set<string>();
  const add = (s: number, d: number): void => {
    for (const v of versions(d)) {
      rows.push({ value: 1 + rnd() * 20, labels: {
        reporter: 'source', source_workload: `app${s}-v1`, source_workload_namespace: ns(s), source_app: `app${s}`, source_version: 'v1',
        destination_workload: `app${d}-${v}`, destination_workload_namespace: ns(d), destination_app: `app${d}`, destination_version: v,
        destination_service: `app${d}.${ns(d)}.svc.cluster.local`, destination_service_name: `app${d}`, destination_service_namespace: ns(d),
        response_code: rnd() < 0.05 ? '503' : '200',
      } });
    }
  };
  // Every app below the first layer gets one caller from the layer above, then random deeper calls up to CALLS.
  for (let d = 0; d < apps; d++) {
    if (layer(d) === 0) continue;
    const callers = [...Array(apps).keys()].filter((s) => layer(s) === layer(d) - 1);
    const s = callers[Math.floor(rnd() * callers.length)]!;
    seen.add(`${s}>${d}`);
    add(s, d);
  }
  while (seen.size < calls) {
    const s = Math.floor(rnd() * apps);
    const d = Math.floor(rnd() * apps);
    if (layer(d) <= layer(s) || seen.has(`${s}>${d}`)) continue;
    seen.add(`${s}>${d}`);
    add(s, d);
  }
  return rows;
}

export async function bench(): Promise<BenchResult> {
  const g = buildGraph(generatedRows(), []);
  const graph = { ...g, window: '1m', source: 'proxies', generatedAt: new Date().toISOString(), errors: [] };
  const app = Fastify();
  await app.register(serviceGraphPlugin, {});
  await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchHeadless();
  try {
    const page = browser.page;
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.addInitScript('window.meshletNoPoll = true');
    await page.goto(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/ui`);
    const times: { layout: number; render: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      times.push(await page.evaluate((gr) => {
        const w = globalThis as unknown as { meshletLayout(x: unknown): unknown; meshletGraph: { state: { graph: unknown }; draw(x: unknown): void; update(x: unknown): void }; document: { body: { getBoundingClientRect(): unknown } } };
        const t0 = performance.now();
        w.meshletLayout(gr);
        const t1 = performance.now();
        w.meshletGraph.state.graph = gr;
        w.meshletGraph.draw(gr);
        w.meshletGraph.update(gr);
        // Force style and layout so the figure includes what the browser does before painting.
        w.document.body.getBoundingClientRect();
        return { layout: t1 - t0, render: performance.now() - t1 };
      }, graph));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rest = times.slice(1);
    const nodes = await page.$$eval('.node', (els) => els.length);
    const edges = await page.$$eval('.edge', (els) => els.length);
    return {
      name: 'graph-ui',
      figures: {
        first_render_ms: times[0]!.render,
        first_layout_ms: times[0]!.layout,
        median_render_ms: median(rest.map((t) => t.render)),
        median_layout_ms: median(rest.map((t) => t.layout)),
      },
      goals: { first_render_ms: { max: 1000 }, median_render_ms: { max: 1000 } },
      notes: [`${nodes} app nodes, ${edges} calls drawn; render = dagre layout + SVG + figures (the page's own draw/update), layout = dagre alone; ${RUNS} runs, median of the last ${RUNS - 1}`],
    };
  } finally {
    await browser.close();
    await app.close();
  }
}
