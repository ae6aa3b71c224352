/**
 * The proxy's Prometheus endpoint (15090 `/stats/prometheus`, as Istio's sidecar serves it).
 * Its own node:http server, so a slow scraper never shares a socket or a parser with traffic;
 * formatting is done by prom-client from the slot families (O(series) at scrape time only).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ProxyMetrics } from './metrics.ts';
import { fetchAppMetrics, filterAppExposition, type AppMetrics } from './merged-metrics.ts';
import type { FastRegistry } from './metrics-family.ts';

export const STATS_PATH = '/stats/prometheus';

export interface StatsOptions {
  /** The app's own metrics to append (env APP_METRICS, set by the injector). */
  appMetrics?: AppMetrics;
  /** Where the app listens (127.0.0.1 in a pod). */
  appHost?: string;
}

/** Our exposition, plus the app's when configured. */
export async function statsText(metrics: ProxyMetrics, opts: StatsOptions = {}): Promise<string> {
  const [ours, app] = await Promise.all([metrics.scrape(), opts.appMetrics === undefined ? undefined : fetchAppMetrics(opts.appMetrics, 2000, opts.appHost)]);
  if (app === undefined) return ours;
  const names = new Set(metrics.mesh.registry.getMetricsAsArray().map((m) => m.name));
  const extra = filterAppExposition(app, names);
  return extra === '' ? ours : `${ours}${extra}\n`;
}

/**
 * Streams the exposition family by family (yielding inside big families), so a scrape of
 * tens of thousands of series neither builds one 10 MB string nor holds the event loop.
 */
export async function writeStats(metrics: ProxyMetrics, res: ServerResponse, opts: StatsOptions = {}): Promise<void> {
  const app = opts.appMetrics === undefined ? undefined : fetchAppMetrics(opts.appMetrics, 2000, opts.appHost);
  const reg = metrics.mesh.registry as FastRegistry;
  res.writeHead(200, { 'content-type': metrics.contentType });
  const names = new Set<string>();
  const write = async (chunk: string): Promise<void> => {
    if (res.destroyed) throw new Error('scraper went away');
    if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', () => r()));
  };
  for (const m of reg.getMetricsAsArray()) {
    names.add(m.name);
    await reg.writeMetric(m, write);
  }
  const appText = app === undefined ? undefined : await app;
  const extra = appText === undefined ? '' : filterAppExposition(appText, names);
  res.end(extra === '' ? undefined : `${extra}\n`);
}

/** Request handler for `/stats/prometheus` (also usable by a server the proxy core owns). */
export function statsHandler(metrics: ProxyMetrics, opts: StatsOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== STATS_PATH && path !== '/metrics')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    writeStats(metrics, res, opts).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`);
      else res.destroy();
    });
  };
}

/** Starts the stats server; resolves once listening. Port 0 picks a free port (tests). */
export async function startStatsServer(metrics: ProxyMetrics, opts: { host: string; port: number } & StatsOptions): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer(statsHandler(metrics, opts));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  return { server, port, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
