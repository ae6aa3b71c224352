/**
 * A real Prometheus (Debian package `prometheus`) for tests: temp config and data dir,
 * loopback listen address, 1 s scrape interval. `query()` runs instant PromQL queries.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface Prometheus {
  url: string;
  query(q: string): Promise<PromSample[]>;
  /** Polls `q` until `ok(result)` or the bounded number of tries runs out; returns the last result. */
  until(q: string, ok: (r: PromSample[]) => boolean, tries?: number): Promise<PromSample[]>;
  stop(): Promise<void>;
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export async function startPrometheus(targets: string[]): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-prom-'));
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: meshlet-proxies',
    '    metrics_path: /stats/prometheus',
    '    static_configs:',
    `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), `${config}\n`);
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      await new Promise<void>((r) => {
        proc.once('exit', () => r());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  try {
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      if (proc.exitCode !== null) throw new Error(`prometheus exited: ${err}`);
      ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
      if (!ready) await sleep(200);
    }
    if (!ready) throw new Error(`prometheus not ready: ${err}`);
  } catch (e) {
    await stop();
    throw e;
  }
  const query = async (q: string): Promise<PromSample[]> => {
    const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${body.error}`);
    return body.data!.result.map((x) => ({ metric: x.metric, value: Number(x.value[1]) }));
  };
  return {
    url,
    query,
    async until(q, ok, tries = 60) {
      let last: PromSample[] = [];
      for (let i = 0; i < tries; i++) {
        last = await query(q);
        if (ok(last)) return last;
        await sleep(500);
      }
      return last;
    },
    stop,
  };
}
