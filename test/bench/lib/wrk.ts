/** Runs wrk (Debian package) pinned to a CPU for a bounded time and parses its totals. */
import { spawn } from 'node:child_process';

export interface WrkResult {
  requests: number;
  requestsPerSecond: number;
  errors: number;
}

export async function runWrk(url: string, opts: { cpu: number; connections: number; seconds: number; headers?: Record<string, string> }): Promise<WrkResult> {
  const args = ['-c', String(opts.cpu), 'wrk', '-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '2s'];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`wrk exited ${code}: ${out}`);
  const total = /(\d+) requests in/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (errs === null ? 0 : errs.slice(1).reduce((s, v) => s + Number(v), 0)) + (non2xx === null ? 0 : Number(non2xx[1]));
  return { requests: Number(total?.[1] ?? 0), requestsPerSecond: Number(rps?.[1] ?? 0), errors };
}
