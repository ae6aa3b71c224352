/** Real upstream servers on loopback for proxy tests: an HTTP echo that says who it is. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoReply {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body: string;
  remote: string;
}

export interface Upstream {
  server: Server;
  address: string;
  port: number;
  /** Requests seen (most recent last). */
  seen: EchoReply[];
  close(): Promise<void>;
}

/** An echo server; `handler` may take over a request (return true when it answered). */
export async function startEcho(name: string, address: string, handler?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<Upstream> {
  const seen: EchoReply[] = [];
  const server = createServer((req, res) => {
    if (handler?.(req, res) === true) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply: EchoReply = { name, method: req.method ?? '', url: req.url ?? '', headers: req.headers as EchoReply['headers'], body: Buffer.concat(chunks).toString(), remote: req.socket.remoteAddress ?? '' };
      seen.push(reply);
      if (seen.length > 1000) seen.shift();
      const body = JSON.stringify(reply);
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, address, r));
  return {
    server,
    address,
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
