/**
 * The reference "bare" Node proxy: node:http server + one undici Pool, `Pool.stream` into
 * the response, no routing or features. It attributes meshlet's cost: the gap between this
 * and nginx is Node's floor, the gap between meshlet and this is meshlet's own code.
 * Run: node bare-undici-proxy.ts <bindHost> <port> <upstream ip:port>
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [host = '127.0.0.1', port = '0', upstream = '127.0.0.1:80'] = process.argv.slice(2);
const pool = new Pool(`http://${upstream}`, { headersTimeout: 0, bodyTimeout: 0 });

const server = createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const k in req.headers) if (k !== 'connection' && k !== 'keep-alive') headers[k] = req.headers[k]!;
  pool.stream({ path: req.url ?? '/', method: req.method as 'GET', headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req, opaque: res }, ({ statusCode, headers: h, opaque }) => {
    const out = opaque as typeof res;
    delete h.connection;
    delete h['keep-alive'];
    delete h['transfer-encoding'];
    out.writeHead(statusCode, h as Record<string, string>);
    return out;
  }, (err) => {
    if (err !== null && !res.headersSent) {
      res.statusCode = 502;
      res.end();
    }
  });
});
server.keepAliveTimeout = 300_000;
server.listen(Number(port), host);
process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
