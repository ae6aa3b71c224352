/** Minimal WebSocket (RFC 6455) handshake and framing for tests: text frames only. */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function encodeFrame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('test frames are short');
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, masked]);
}

/** Decodes one frame from the start of buf; undefined when incomplete. */
export function decodeFrame(buf: Buffer): { text: string; rest: Buffer } | undefined {
  if (buf.length < 2) return undefined;
  const masked = (buf[1]! & 0x80) !== 0;
  const len = buf[1]! & 0x7f;
  const start = 2 + (masked ? 4 : 0);
  if (buf.length < start + len) return undefined;
  let payload = buf.subarray(start, start + len);
  if (masked) {
    const key = buf.subarray(2, 6);
    payload = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  }
  return { text: payload.toString(), rest: buf.subarray(start + len) };
}

/** Server side: answers the upgrade and echoes every text frame back. */
export function acceptEcho(req: IncomingMessage, socket: Socket): void {
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key'] as string}${GUID}`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-seen-path: ${req.url ?? ''}\r\n\r\n`);
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    for (let f = decodeFrame(buf); f !== undefined; f = decodeFrame(buf)) {
      buf = f.rest;
      socket.write(encodeFrame(`echo:${f.text}`, false));
    }
  });
  socket.on('error', () => socket.destroy());
  // Upgraded sockets leave the HTTP server's bookkeeping: close them ourselves on half-close.
  socket.on('end', () => socket.destroy());
}

/** Client side: connects, upgrades with the given Host, returns send/receive helpers. */
export async function wsClient(host: string, port: number, hostHeader: string, path: string): Promise<{ status: string; send(t: string): void; next(): Promise<string>; close(): void }> {
  const socket = connect({ host, port });
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let buf: Buffer = Buffer.alloc(0);
  const waiters: (() => void)[] = [];
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    for (const w of waiters.splice(0)) w();
  });
  const more = () => new Promise<void>((r, j) => {
    waiters.push(r);
    setTimeout(() => j(new Error('ws read timeout')), 5000).unref();
  });
  while (!buf.includes('\r\n\r\n')) await more();
  const end = buf.indexOf('\r\n\r\n');
  const status = buf.subarray(0, end).toString();
  buf = buf.subarray(end + 4);
  return {
    status,
    send: (t) => socket.write(encodeFrame(t, true)),
    async next() {
      for (;;) {
        const f = decodeFrame(buf);
        if (f !== undefined) {
          buf = f.rest;
          return f.text;
        }
        await more();
      }
    },
    close: () => socket.destroy(),
  };
}
