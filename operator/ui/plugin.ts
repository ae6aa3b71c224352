/**
 * The built-in service graph, a fastify plugin the operator registers on its monitoring
 * port (15014), read-only and with no external resources: `/ui` (one static page; SVG laid
 * out by dagre, served from the npm package at `/ui/dagre.min.js`), `/ui/graph.json?window=1m|5m|15m`
 * (the versioned app graph with chart points), `/ui/details.json` (side panel: config that
 * applies, configured split, findings, NACKs, explain) and `/ui/yaml` (one object's YAML).
 * Data comes from Prometheus when `prometheusUrl` is set, else from the operator's own
 * scrapes of the connected proxies' 15090 endpoints (so it works in local mode).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { errorEntry, MeshletError } from '../../common/errors.ts';
import { ProxyCollector, WINDOWS_MS, windowOf, type CollectorOptions, type Rates, type WindowName } from './collector.ts';
import { buildGraph, type Graph } from './graph-build.ts';
import type { Badges, Inspector } from './inspect.ts';
import { prometheusRates, prometheusSeries } from './prom-source.ts';

export interface ServiceGraphOptions {
  /** Prometheus base URL (e.g. `http://prometheus.istio-system:9090`); when set, the graph comes from it. */
  prometheusUrl?: string;
  /** PromQL range of `rate()` (Prometheus source), default `1m`. */
  promWindow?: string;
  /** Stats URLs of the connected proxies (own collection). */
  targets?: () => string[];
  /** Own collection: rate window and minimum scrape interval (ms); clock and fetch for tests. */
  collector?: Omit<CollectorOptions, 'targets'>;
  /** How often the page refreshes, ms (default 2000). */
  refreshMs?: number;
  /** Config, findings, NACKs and explain for the side panel (the operator's World and proxies). */
  inspector?: Inspector;
}

/** One chart point: an interval's end (ms since epoch) and its figures. */
export interface Point {
  t: number;
  rps: number;
  successRate: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface GraphResponse extends Graph {
  source: 'prometheus' | 'proxies';
  window: WindowName;
  generatedAt: string;
  errors: { code: string; target?: string; message: string }[];
  /** Chart points per edge id and per node id (incoming). */
  series?: { edges: Record<string, Point[]>; nodes: Record<string, Point[]> };
  /** Node id → counts of analyze findings and NACKed proxies. */
  badges?: Record<string, Badges>;
  tracingUrl?: string;
}

const read = (f: string): string => readFileSync(new URL(`./static/${f}`, import.meta.url), 'utf8');
const STATIC: Record<string, { type: string; body: string }> = {
  'graph.js': { type: 'text/javascript; charset=utf-8', body: read('graph.js') },
  'layout.js': { type: 'text/javascript; charset=utf-8', body: read('layout.js') },
  'panel.js': { type: 'text/javascript; charset=utf-8', body: read('panel.js') },
  'graph.css': { type: 'text/css; charset=utf-8', body: read('graph.css') },
  // The layout library, bundled from its npm package (no CDN: the page works offline).
  'dagre.min.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(dirname(createRequire(import.meta.url).resolve('@dagrejs/dagre/package.json')), 'dist', 'dagre.min.js'), 'utf8') },
};
const page = read('index.html');

function seriesOf(points: { t: number; rates: Rates }[]): NonNullable<GraphResponse['series']> {
  const out: NonNullable<GraphResponse['series']> = { edges: {}, nodes: {} };
  for (const { t, rates } of points) {
    const g = buildGraph(rates.requests, rates.buckets, rates.tcp);
    for (const e of g.edges) (out.edges[e.id] ??= []).push({ t, rps: e.rps, successRate: e.successRate, p50: e.p50, p90: e.p90, p99: e.p99 });
    for (const n of g.nodes) {
      const inc = g.edges.filter((e) => e.target === n.id);
      const p99 = inc.reduce<number | null>((m, e) => (e.p99 === null ? m : Math.max(m ?? 0, e.p99)), null);
      (out.nodes[n.id] ??= []).push({ t, rps: n.rpsIn, successRate: n.successRate, p50: inc[0]?.p50 ?? null, p90: inc[0]?.p90 ?? null, p99 });
    }
  }
  return out;
}

/** Builds the graph once (also used by `meshlet graph --prometheus`). */
export async function graphFrom(opts: ServiceGraphOptions, collector: ProxyCollector | undefined, window: WindowName = '1m'): Promise<GraphResponse> {
  const generatedAt = new Date().toISOString();
  const extra = (g: Graph): Pick<GraphResponse, 'badges' | 'tracingUrl'> => {
    const out: Pick<GraphResponse, 'badges' | 'tracingUrl'> = {};
    if (opts.inspector !== undefined) out.badges = opts.inspector.badges(g.nodes.map((n) => n.id));
    if (opts.inspector?.tracingUrl !== undefined) out.tracingUrl = opts.inspector.tracingUrl;
    return out;
  };
  if (opts.prometheusUrl !== undefined) {
    try {
      const [r, points] = await Promise.all([
        prometheusRates(opts.prometheusUrl, opts.promWindow ?? window),
        prometheusSeries(opts.prometheusUrl, WINDOWS_MS[window] / 1000),
      ]);
      const g = buildGraph(r.requests, r.buckets, r.tcp);
      return { source: 'prometheus', window, generatedAt, ...g, errors: [], series: seriesOf(points.map((p) => ({ t: p.t, rates: p }))), ...extra(g) };
    } catch (err) {
      const e = err instanceof MeshletError ? err : new MeshletError('MESHLET_TELEMETRY_PROMETHEUS_QUERY', (err as Error).message);
      return { source: 'prometheus', window, generatedAt, nodes: [], edges: [], errors: [{ code: e.code, message: e.message }] };
    }
  }
  if (collector === undefined) return { source: 'proxies', window, generatedAt, nodes: [], edges: [], errors: [] };
  await collector.refreshForRates();
  const r = collector.rates(WINDOWS_MS[window]);
  const errors = [...collector.errors].map(([target, message]) => ({ code: 'MESHLET_TELEMETRY_SCRAPE_FAILED', target, message: `${errorEntry('MESHLET_TELEMETRY_SCRAPE_FAILED').message}: ${message}` }));
  const g = buildGraph(r.requests, r.buckets, r.tcp);
  return { source: 'proxies', window, generatedAt, ...g, errors, series: seriesOf(collector.series(WINDOWS_MS[window])), ...extra(g) };
}

export const serviceGraphPlugin: FastifyPluginAsync<ServiceGraphOptions> = async (app: FastifyInstance, opts: ServiceGraphOptions) => {
  const collector = opts.prometheusUrl === undefined && opts.targets !== undefined ? new ProxyCollector({ ...opts.collector, targets: opts.targets }) : undefined;
  const html = page.replace('__REFRESH_MS__', String(opts.refreshMs ?? 2000));
  app.get('/ui', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html));
  app.get('/ui/', async (_req, reply) => reply.redirect('/ui'));
  app.get<{ Params: { file: string } }>('/ui/static/:file', async (req, reply) => {
    const f = STATIC[req.params.file];
    if (f === undefined) return reply.code(404).send({ code: 'MESHLET_TELEMETRY_UI_NOT_FOUND', message: `no such file: ${req.params.file}` });
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });
  app.get<{ Querystring: { window?: string } }>('/ui/graph.json', async (req, reply) => {
    let window: WindowName;
    try {
      window = windowOf(req.query.window);
    } catch (err) {
      return reply.code(400).send({ code: (err as MeshletError).code, message: (err as Error).message });
    }
    return reply.header('cache-control', 'no-store').send(await graphFrom(opts, collector, window));
  });
  app.get<{ Querystring: { node?: string; source?: string; target?: string; hosts?: string } }>('/ui/details.json', async (req, reply) => {
    const q = req.query;
    const i = opts.inspector;
    if (i === undefined) return reply.send({ config: [], configured: [], findings: [], nacks: [] });
    if (q.node !== undefined) return reply.header('cache-control', 'no-store').send(i.node(q.node));
    if (q.source !== undefined && q.target !== undefined) return reply.header('cache-control', 'no-store').send(i.edge(q.source, q.target, (q.hosts ?? '').split(',').filter((h) => h !== '')));
    return reply.code(400).send({ code: 'MESHLET_CORE_BAD_FLAG', message: 'give node=<id>, or source=<id>&target=<id>&hosts=<h,...>' });
  });
  app.get<{ Querystring: { kind?: string; namespace?: string; name?: string } }>('/ui/yaml', async (req, reply) => {
    const y = opts.inspector?.yaml(req.query.kind ?? '', req.query.namespace ?? '', req.query.name ?? '');
    if (y === undefined) return reply.code(404).type('text/plain; charset=utf-8').send(`no ${req.query.kind ?? '?'} ${req.query.namespace ?? '?'}/${req.query.name ?? '?'}\n`);
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(y);
  });
};

/** The stats URL of a proxy from its identity's IP (Istio's sidecar port 15090). */
export function proxyStatsUrl(ip: string, port = 15090): string {
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}/stats/prometheus`;
}
