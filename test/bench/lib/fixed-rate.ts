/**
 * Open-loop load at a fixed rate (default 1,000 req/s) over a few keep-alive connections,
 * recording each response's latency in microseconds (not a rounded histogram). Run as a
 * child process pinned to the load CPU: `node fixed-rate.ts <url> <rate> <count> [host]`.
 * Prints one JSON line {p50, p90, p99, errors, count}. Bounded by count and a deadline.
 */
import { Pool } from 'undici';

const [url = '', rateArg = '1000', countArg = '5000', host] = process.argv.slice(2);
const rate = Number(rateArg);
const count = Number(countArg);
const target = new URL(url);
const pool = new Pool(target.origin, { connections: 16, pipelining: 1 });
const latencies: number[] = [];
let errors = 0;
let done = 0;
const headers: Record<string, string> = host === undefined ? {} : { host };
const intervalNs = 1e9 / rate;
const start = process.hrtime.bigint();
const deadlineMs = (count / rate) * 1000 + 10_000;

function fire(): void {
  const t0 = process.hrtime.bigint();
  pool
    .request({ path: target.pathname, method: 'GET', headers })
    .then(async (res) => {
      await res.body.dump();
      if (res.statusCode !== 200) errors++;
      latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
    })
    .catch(() => errors++)
    .finally(() => {
      done++;
      if (done === count) finish();
    });
}

function finish(): void {
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  process.stdout.write(`${JSON.stringify({ p50: q(0.5), p90: q(0.9), p99: q(0.99), errors, count: latencies.length })}\n`);
  void pool.close().then(() => process.exit(0));
}

let sent = 0;
function tick(): void {
  // Catch up to the schedule so timer jitter does not lower the offered rate.
  const due = Math.min(count, Math.floor(Number(process.hrtime.bigint() - start) / intervalNs) + 1);
  while (sent < due) {
    sent++;
    fire();
  }
  if (sent < count) setTimeout(tick, 1);
}
tick();
setTimeout(() => {
  errors += count - done;
  finish();
}, deadlineMs).unref();
