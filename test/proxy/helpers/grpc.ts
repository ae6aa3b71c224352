/** gRPC-shaped HTTP/2 helpers (length-prefixed messages, grpc-status trailers) without a gRPC library. */
import { createServer, type Http2Server, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';

export function frame(msg: string): Buffer {
  const body = Buffer.from(msg);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Splits complete messages off the front of buf. */
export function unframe(buf: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
    const len = buf.readUInt32BE(1);
    messages.push(buf.subarray(5, 5 + len).toString());
    buf = buf.subarray(5 + len);
  }
  return { messages, rest: buf };
}

/**
 * `/echo.Echo/Unary`: one reply. `/echo.Echo/Stream`: every message echoed as it arrives,
 * then trailers `grpc-status: 0`. `/echo.Echo/Fail`: trailers-only `grpc-status: 5`.
 */
export function grpcEchoServer(): Http2Server {
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const path = headers[':path'];
    if (path === '/echo.Echo/Fail') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'not found' }, { endStream: true });
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok', 'x-trailer': 'kept' }));
    let buf: Buffer = Buffer.alloc(0);
    stream.on('data', (c: Buffer) => {
      const r = unframe(Buffer.concat([buf, c]));
      buf = r.rest;
      for (const m of r.messages) stream.write(frame(`echo:${m}`));
    });
    stream.on('end', () => stream.end());
    stream.on('error', () => undefined);
  });
  return server;
}
