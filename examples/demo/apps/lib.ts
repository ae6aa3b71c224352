/**
 * Shared bits of the demo apps: listen on BIND_ADDRESS:PORT (set by `meshlet local`), and
 * call other services through the workload's proxy as an explicit HTTP proxy (HTTP_PROXY),
 * forwarding the trace headers (W3C, B3, x-request-id) and the demo's `user-tier` header.
 */
import { request, createServer, type IncomingMessage, type ServerResponse, type IncomingHttpHeaders } from 'node:http';

export const FORWARDED = ['traceparent', 'tracestate', 'x-request-id', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'user-tier'];

export function forwardHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FORWARDED) {
    const v = h[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** GET `url` (e.g. http://reviews:9080/reviews/1) through HTTP_PROXY, or directly without one. */
export function call(url: string, headers: Record<string, string>, timeoutMs = 5000): Promise<Reply> {
  const target = new URL(url);
  const proxy = process.env.HTTP_PROXY ?? process.env.http_proxy;
  const via = proxy === undefined || proxy === '' ? undefined : new URL(proxy);
  return new Promise((resolve) => {
    const req = request({
      host: via?.hostname ?? target.hostname,
      port: via?.port ?? target.port,
      method: 'GET',
      // Absolute-form request line when talking to the proxy.
      path: via === undefined ? `${target.pathname}${target.search}` : target.href,
      headers: { ...headers, host: target.host },
      timeout: timeoutMs,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', (e) => resolve({ status: 502, headers: {}, body: `read failed: ${e.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 503, headers: {}, body: `call failed: ${e.message}` }));
    req.end();
  });
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Starts the app's server; stops cleanly on SIGTERM/SIGINT. */
export function serve(name: string, handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): void {
  const host = process.env.BIND_ADDRESS ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 9080);
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((err: Error) => json(res, 500, { error: err.message }));
  });
  server.keepAliveTimeout = 30_000;
  server.listen(port, host, () => process.stdout.write(`${name} listening on http://${host}:${port}${process.env.HTTP_PROXY ? ` (calls via ${process.env.HTTP_PROXY})` : ''}\n`));
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
