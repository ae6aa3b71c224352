/**
 * The built-in service graph, a fastify plugin the operator registers on its monitoring
 * port (15014): `/ui` (one static page, SVG drawn by a small script) and `/ui/graph.json`.
 * Data comes from Prometheus when `prometheusUrl` is set, else from the operator's own
 * scrapes of the connected proxies' 15090 endpoints (so it works in local mode).
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { errorEntry, MeshletError } from '../../common/errors.ts';
import { ProxyCollector, type CollectorOptions } from './collector.ts';
import { buildGraph, type Graph } from './graph-build.ts';
import { prometheusRates } from './prom-source.ts';

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
}

export interface GraphResponse extends Graph {
  source: 'prometheus' | 'proxies';
  generatedAt: string;
  errors: { code: string; target?: string; message: string }[];
}

const page = readFileSync(new URL('./static/index.html', import.meta.url), 'utf8');
const script = readFileSync(new URL('./static/graph.js', import.meta.url), 'utf8');

/** Builds the graph once (also used by `meshlet graph --prometheus`). */
export async function graphFrom(opts: ServiceGraphOptions, collector: ProxyCollector | undefined): Promise<GraphResponse> {
  const generatedAt = new Date().toISOString();
  if (opts.prometheusUrl !== undefined) {
    try {
      const r = await prometheusRates(opts.prometheusUrl, opts.promWindow ?? '1m');
      return { source: 'prometheus', generatedAt, ...buildGraph(r.requests, r.buckets, r.tcp), errors: [] };
    } catch (err) {
      const e = err instanceof MeshletError ? err : new MeshletError('MESHLET_TELEMETRY_PROMETHEUS_QUERY', (err as Error).message);
      return { source: 'prometheus', generatedAt, nodes: [], edges: [], errors: [{ code: e.code, message: e.message }] };
    }
  }
  if (collector === undefined) return { source: 'proxies', generatedAt, nodes: [], edges: [], errors: [] };
  await collector.refreshForRates();
  const r = collector.rates();
  const errors = [...collector.errors].map(([target, message]) => ({ code: 'MESHLET_TELEMETRY_SCRAPE_FAILED', target, message: `${errorEntry('MESHLET_TELEMETRY_SCRAPE_FAILED').message}: ${message}` }));
  return { source: 'proxies', generatedAt, ...buildGraph(r.requests, r.buckets, r.tcp), errors };
}

export const serviceGraphPlugin: FastifyPluginAsync<ServiceGraphOptions> = async (app: FastifyInstance, opts: ServiceGraphOptions) => {
  const collector = opts.prometheusUrl === undefined && opts.targets !== undefined ? new ProxyCollector({ ...opts.collector, targets: opts.targets }) : undefined;
  const html = page.replace('__REFRESH_MS__', String(opts.refreshMs ?? 2000));
  app.get('/ui', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html));
  app.get('/ui/', async (_req, reply) => reply.redirect('/ui'));
  app.get('/ui/graph.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(script));
  app.get('/ui/graph.json', async (_req, reply) => reply.header('cache-control', 'no-store').send(await graphFrom(opts, collector)));
};

/** The stats URL of a proxy from its identity's IP (Istio's sidecar port 15090). */
export function proxyStatsUrl(ip: string, port = 15090): string {
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}/stats/prometheus`;
}
