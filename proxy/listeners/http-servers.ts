/**
 * The HTTP/1.1 and h2c servers the capture listeners hand sockets to. They never listen
 * themselves. Limits follow Envoy: 60 KiB of request headers (431 above), a headers
 * timeout against slowloris, strict parsing (CL+TE, bad chunking → 400).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { handleRequest, type ProxyState } from '../http/handle-request.ts';
import { rawLocalReply } from '../http/local-reply.ts';
import { handleUpgrade } from '../http/upgrade.ts';
import { H1Server, type Http1Acceptor } from '../h1/server.ts';
import { admitStream, guardSession, type H2GuardHooks } from './h2-guard.ts';

/** Envoy's default max request headers size. */
export const MAX_HEADER_BYTES = 60 * 1024;

export interface HttpServerOptions {
  state: ProxyState;
  /** Time allowed to receive the full request headers (slowloris defence). */
  headersTimeoutMs: number;
  /** Idle keep-alive timeout of downstream connections. */
  keepAliveTimeoutMs: number;
}

function onClientError(err: Error & { code?: string }, socket: Socket): void {
  if (socket.writable && socket.bytesWritten === 0) {
    if (err.code === 'HPE_HEADER_OVERFLOW') socket.write(rawLocalReply(431, 'Request Header Fields Too Large', 'MESHLET_PROXY_HEADERS_TOO_LARGE', 'DPE'));
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.write(rawLocalReply(408, 'Request Timeout', 'MESHLET_PROXY_REQUEST_TIMEOUT', 'DT'));
    else if (err.code !== 'ECONNRESET') socket.write(rawLocalReply(400, 'Bad Request', 'MESHLET_PROXY_BAD_REQUEST', 'DPE'));
  }
  socket.destroy();
}

export function createHttp1Server(opts: HttpServerOptions): Server {
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: opts.headersTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(opts.headersTimeoutMs / 4))),
      insecureHTTPParser: false,
    },
    (req: IncomingMessage, res: ServerResponse) => handleRequest(opts.state, req, res),
  );
  server.on('clientError', onClientError);
  // A client may half-close after its request (legal in HTTP/1.1): still answer, then close.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // This server never listens itself (sockets are handed over by the capture listeners), so start
  // Node's connection tracking by hand: headersTimeout checks and closeIdleConnections need it.
  server.emit('listening');
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => handleUpgrade(opts.state, req, socket, head));
  return server;
}

/** node:http behind the acceptor interface: the fallback codec (MESHLET_PROXY_HTTP1=node). */
export function nodeHttp1Acceptor(opts: HttpServerOptions): Http1Acceptor {
  const server = createHttp1Server(opts);
  return {
    accept(socket) {
      server.emit('connection', socket);
      socket.resume();
    },
    closeIdle: () => server.closeIdleConnections(),
    closeAll: () => server.closeAllConnections(),
  };
}

/** The HTTP/1.1 codec the proxy uses: meshlet's own (proxy/h1), unless told to use node:http. */
export function createHttp1Acceptor(opts: HttpServerOptions, codec: 'meshlet' | 'node'): Http1Acceptor {
  return codec === 'node' ? nodeHttp1Acceptor(opts) : new H1Server(opts.state, { headersTimeoutMs: opts.headersTimeoutMs, keepAliveTimeoutMs: opts.keepAliveTimeoutMs });
}

/**
 * At most this many concurrent streams per HTTP/2 connection (advertised in SETTINGS; Node's
 * default is unlimited): bounds what one client connection can hold open upstream.
 */
export const MAX_CONCURRENT_STREAMS = 1000;

export function createH2cServer(opts: HttpServerOptions, guard: H2GuardHooks = {}): Http2Server {
  const settings = { maxHeaderListSize: MAX_HEADER_BYTES + 4096, maxConcurrentStreams: MAX_CONCURRENT_STREAMS };
  const server = createH2Server({ maxSessionMemory: 64, settings }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    // A stream the client reset before its request event never starts upstream.
    if (admitStream(req.stream)) handleRequest(opts.state, req, res);
  });
  server.on('sessionError', () => undefined);
  server.on('session', (session: ServerHttp2Session) => {
    session.on('error', () => undefined);
    guardSession(session, guard);
  });
  server.setTimeout(0);
  return server;
}
