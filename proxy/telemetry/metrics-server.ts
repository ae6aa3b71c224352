/**
 * The proxy's Prometheus endpoint (15090 `/stats/prometheus`, as Istio's sidecar serves it).
 * Its own node:http server, so a slow scraper never shares a socket or a parser with traffic;
 * formatting is done by prom-client from the slot families (O(series) at scrape time only).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ProxyMetrics } from './metrics.ts';

export const STATS_PATH = '/stats/prometheus';

/** Request handler for `/stats/prometheus` (also usable by a server the proxy core owns). */
export function statsHandler(metrics: ProxyMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== STATS_PATH && path !== '/metrics')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.scrape().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  };
}

/** Starts the stats server; resolves once listening. Port 0 picks a free port (tests). */
export async function startStatsServer(metrics: ProxyMetrics, opts: { host: string; port: number }): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer(statsHandler(metrics));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  return { server, port, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}
