/**
 * The proxy's Prometheus endpoint (15090 `/stats/prometheus`, as Istio's sidecar serves it).
 * Its own node:http server, so a slow scraper never shares a socket or a parser with traffic;
 * the slot families write their own lines into reused byte chunks (O(series) at scrape time only).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ProxyMetrics } from './metrics.ts';
import { fetchAppMetrics, filterAppExposition, type AppMetrics } from './merged-metrics.ts';
import type { FastRegistry } from './metrics-family.ts';
import { ExpositionWriter } from './exposition-writer.ts';

export const STATS_PATH = '/stats/prometheus';

export interface StatsOptions {
  /** The app's own metrics to append (env APP_METRICS, set by the injector). */
  appMetrics?: AppMetrics;
  /** Where the app listens (127.0.0.1 in a pod). */
  appHost?: string;
}

/** Writes one chunk; resolves once the socket has taken it (the chunk may be reused then). */
function sendChunk(res: ServerResponse, closed: Promise<never>, chunk: Buffer): Promise<void> {
  const written = new Promise<void>((resolve, reject) => {
    if (res.destroyed) reject(new Error('scraper went away'));
    else res.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
  return Promise.race([written, closed]);
}

/**
 * Streams the exposition chunk by chunk (see exposition-writer.ts), yielding to the event
 * loop between chunks, so a scrape of tens of thousands of series neither builds one 10 MB
 * string nor holds requests up.
 */
export async function writeStats(metrics: ProxyMetrics, res: ServerResponse, opts: StatsOptions = {}): Promise<void> {
  const app = opts.appMetrics === undefined ? undefined : fetchAppMetrics(opts.appMetrics, 2000, opts.appHost);
  const reg = metrics.mesh.registry as FastRegistry;
  res.writeHead(200, { 'content-type': metrics.contentType });
  // A scraper that hangs up mid-scrape ends the scrape (a write callback may never come then).
  const closed = new Promise<never>((_, reject) => res.once('close', () => reject(new Error('scraper went away'))));
  closed.catch(() => undefined);
  const w = new ExpositionWriter((chunk) => sendChunk(res, closed, chunk));
  const names = new Set<string>();
  for (const m of reg.getMetricsAsArray()) {
    names.add(m.name);
    await reg.writeMetric(m, w);
  }
  const appText = app === undefined ? undefined : await app;
  const extra = appText === undefined ? '' : filterAppExposition(appText, names);
  if (extra !== '') w.text(`${extra}\n`);
  await w.end();
  res.end();
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
