/**
 * Open-loop load at a fixed rate (default 1,000 req/s) over a few keep-alive connections,
 * recording each response's latency in microseconds (not a rounded histogram). Run as a
 * child process pinned to the load CPU: `node fixed-rate.ts <url> <rate> <count> [host] [name:value]...`.
 * Prints one JSON line {p50, p90, p99, errors, count}. Bounded by count and a deadline.
 *
 * Raw sockets and one pre-built request, no HTTP client library: the generator's own
 * per-request work (and its garbage) is what set the latency floor of every variant, `direct`
 * included. Responses are read by Content-Length (every bench upstream sends one).
 */
import { connect, type Socket } from 'node:net';

const [url = '', rateArg = '1000', countArg = '5000', hostArg, ...extra] = process.argv.slice(2);
const host = hostArg === '' ? undefined : hostArg;
// Extra request headers (e.g. a JWT), `name:value` each, sent with every request.
const extraLines = extra.map((h) => `${h.slice(0, h.indexOf(':'))}: ${h.slice(h.indexOf(':') + 1)}\r\n`).join('');
const rate = Number(rateArg);
const count = Number(countArg);
const target = new URL(url);
const CONNECTIONS = 16;
const request = Buffer.from(`GET ${target.pathname} HTTP/1.1\r\nHost: ${host ?? target.host}\r\n${extraLines}\r\n`, 'latin1');
const latencies = new Float64Array(count);
let recorded = 0;
let errors = 0;
let done = 0;
const intervalNs = 1e9 / rate;
const start = process.hrtime.bigint();
const deadlineMs = (count / rate) * 1000 + 10_000;

/** One keep-alive connection with at most one request in flight. */
class Conn {
  readonly socket: Socket;
  sentAt = 0n;
  busy = false;
  buf: Buffer | undefined;
  constructor() {
    this.socket = connect({ host: target.hostname, port: Number(target.port || 80), noDelay: true });
    this.socket.on('data', (c: Buffer) => this.data(c));
    this.socket.on('error', () => this.broken());
    this.socket.on('close', () => this.broken());
  }
  send(): void {
    this.busy = true;
    this.sentAt = process.hrtime.bigint();
    this.socket.write(request);
  }
  data(c: Buffer): void {
    const buf = this.buf === undefined ? c : Buffer.concat([this.buf, c]);
    const end = buf.indexOf('\r\n\r\n');
    if (end === -1) {
      this.buf = buf;
      return;
    }
    const head = buf.toString('latin1', 0, end);
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    const total = end + 4 + (m === null ? 0 : Number(m[1]));
    if (buf.length < total) {
      this.buf = buf;
      return;
    }
    this.buf = undefined;
    if (!head.startsWith('HTTP/1.1 200') || m === null) errors++;
    else latencies[recorded++] = Number(process.hrtime.bigint() - this.sentAt) / 1000;
    this.busy = false;
    answered();
  }
  broken(): void {
    if (this.busy) {
      this.busy = false;
      errors++;
      answered();
    }
    const i = conns.indexOf(this);
    if (i !== -1) conns[i] = new Conn();
  }
}

const conns: Conn[] = Array.from({ length: CONNECTIONS }, () => new Conn());
let queued = 0;

function answered(): void {
  done++;
  if (done === count) finish();
  else if (queued > 0) dispatch();
}

function dispatch(): void {
  for (const c of conns) {
    if (queued === 0) return;
    if (c.busy || c.socket.connecting) continue;
    queued--;
    c.send();
  }
}

function finish(): void {
  const l = latencies.subarray(0, recorded).sort();
  const q = (p: number): number => l[Math.min(l.length - 1, Math.floor(p * l.length))] ?? NaN;
  process.stdout.write(`${JSON.stringify({ p50: q(0.5), p90: q(0.9), p99: q(0.99), errors, count: recorded })}\n`);
  for (const c of conns) c.socket.destroy();
  process.exit(0);
}

let sent = 0;
function tick(): void {
  // Catch up to the schedule so timer jitter does not lower the offered rate.
  const due = Math.min(count, Math.floor(Number(process.hrtime.bigint() - start) / intervalNs) + 1);
  queued += due - sent;
  sent = due;
  dispatch();
  if (sent < count) setTimeout(tick, 1);
}
// Connect first, then start the clock.
setTimeout(tick, 100);
setTimeout(() => {
  errors += count - done;
  finish();
}, deadlineMs + 100).unref();
