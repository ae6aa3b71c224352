/** Runs lib/fixed-rate.ts as a child pinned to a CPU; latencies in microseconds. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface FixedRateResult {
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  count: number;
}

export async function runFixedRate(url: string, o: { cpu: number; rate: number; count: number; host?: string; headers?: Record<string, string> }): Promise<FixedRateResult> {
  const script = fileURLToPath(new URL('./fixed-rate.ts', import.meta.url));
  const extra = Object.entries(o.headers ?? {}).map(([k, v]) => `${k}:${v}`);
  const args = ['-c', String(o.cpu), process.execPath, script, url, String(o.rate), String(o.count), ...(o.host === undefined && extra.length === 0 ? [] : [o.host ?? '']), ...extra];
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => child.on('close', r));
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as FixedRateResult;
}
