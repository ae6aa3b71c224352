/**
 * A tiny TCP agent for the capture tests, run inside a network namespace:
 *   listen <port> <label>   accepts connections; answers one JSON line {label, local, remote, originalDst}
 *                           (originalDst read with getsockopt(SO_ORIGINAL_DST) through koffi) and closes.
 *   connect <host> <port> [uid] [sourceAddr]   connects (as uid/gid when given), prints the answer line.
 *   http <url>             GET, prints {status}.
 * Prints "ready" once listening.
 */
import { createServer, connect, type Socket } from 'node:net';
import koffi from 'koffi';

const SOL_IP = 0;
const SO_ORIGINAL_DST = 80;

const libc = koffi.load('libc.so.6');
const getsockopt = libc.func('int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)');

function originalDst(sock: Socket): string | null {
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return null;
  const buf = Buffer.alloc(16);
  const len = [16];
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, buf, len) !== 0) return null;
  // struct sockaddr_in: family (2), port (network order), address (4).
  return `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}:${buf.readUInt16BE(2)}`;
}

const [mode, a, b, c, d] = process.argv.slice(2);
if (mode === 'listen') {
  const server = createServer((sock) => {
    const answer = { label: b, local: `${sock.localAddress}:${sock.localPort}`, remote: `${sock.remoteAddress}:${sock.remotePort}`, originalDst: originalDst(sock) };
    sock.end(`${JSON.stringify(answer)}\n`);
    sock.on('error', () => {});
  });
  server.listen(Number(a), '0.0.0.0', () => process.stdout.write('ready\n'));
} else if (mode === 'connect') {
  if (c !== undefined && c !== '' && c !== '-') {
    process.setgid?.(Number(c));
    process.setuid?.(Number(c));
  }
  const sock = connect({ host: a, port: Number(b), ...(d !== undefined ? { localAddress: d } : {}) });
  let data = '';
  sock.setTimeout(5000, () => { process.stdout.write('{"error":"timeout"}\n'); process.exit(1); });
  sock.on('data', (x) => { data += x.toString(); });
  sock.on('end', () => { process.stdout.write(data); process.exit(0); });
  sock.on('error', (e) => { process.stdout.write(`${JSON.stringify({ error: e.message })}\n`); process.exit(1); });
} else if (mode === 'http') {
  // http <url>: prints {status} or {error}
  fetch(a as string).then((r) => { process.stdout.write(`${JSON.stringify({ status: r.status })}\n`); process.exit(0); },
    (e: Error) => { process.stdout.write(`${JSON.stringify({ error: e.message })}\n`); process.exit(1); });
} else {
  process.stderr.write('usage: net-agent listen <port> <label> | connect <host> <port> [uid|-] [source]\n');
  process.exit(2);
}
