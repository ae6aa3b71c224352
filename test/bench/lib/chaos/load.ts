/**
 * Open-loop load through the client sidecar's outbound listener at a fixed rate, bounded in
 * count and time. One request in five asks for `/deny` (the DENY policy must answer 403),
 * one in ten is a POST (the ALLOW policy admits only GET: 403), the rest GET `/ok` (200).
 * A request fails when its answer is not the expected one; failures are counted by status
 * (0 = no answer) and by `x-meshlet-flags`.
 */
import { Pool } from 'undici';
import { SERVICE, type ChaosMesh } from './mesh.ts';

export interface LoadFigures {
  sent: number;
  failed: number;
  failedByStatus: Record<string, number>;
  failedByFlag: Record<string, number>;
}

export interface Load {
  /** Resolves when every request has an outcome (or the time bound passed). */
  done: Promise<LoadFigures>;
  /** Stops sending early; `done` still waits for the requests in flight. */
  stop(): void;
}

const expected = (i: number): { path: string; method: string; status: number } =>
  i % 5 === 0 ? { path: '/deny', method: 'GET', status: 403 } : i % 10 === 1 ? { path: '/ok', method: 'POST', status: 403 } : { path: '/ok', method: 'GET', status: 200 };

export function startLoad(m: ChaosMesh, rate: number, count: number): Load {
  const pool = new Pool(`http://${m.outbound.host}:${m.outbound.port}`, { connections: 32, pipelining: 1 });
  const f: LoadFigures = { sent: 0, failed: 0, failedByStatus: {}, failedByFlag: {} };
  let stopped = false;
  const fail = (status: number, flag: string | undefined): void => {
    f.failed++;
    f.failedByStatus[status] = (f.failedByStatus[status] ?? 0) + 1;
    if (flag !== undefined) f.failedByFlag[flag] = (f.failedByFlag[flag] ?? 0) + 1;
  };
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const deadline = t0 + (count / rate) * 1000 + 30_000;
  const done = (async (): Promise<LoadFigures> => {
    for (let i = 0; i < count && !stopped && performance.now() < deadline; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const e = expected(i);
      f.sent++;
      pending.push(
        pool.request({ path: e.path, method: e.method, headers: { host: SERVICE }, body: e.method === 'POST' ? 'x' : null, headersTimeout: 20_000, bodyTimeout: 20_000 }).then(
          async (res) => {
            await res.body.dump();
            if (res.statusCode !== e.status) fail(res.statusCode, res.headers['x-meshlet-flags'] as string | undefined);
          },
          () => fail(0, undefined),
        ),
      );
    }
    await Promise.all(pending);
    await pool.close();
    return f;
  })();
  return { done, stop: () => (stopped = true) };
}

export const runLoad = (m: ChaosMesh, rate: number, count: number): Promise<LoadFigures> => startLoad(m, rate, count).done;

/**
 * A first load at the scenarios' rate: the proxies open their upstream keep-alive pools
 * (client → server mTLS, server → app), ~25-30 descriptors each at 150 req/s, and keep
 * them. Measured after this, a descriptor baseline holds the pools and counts only leaks.
 */
export const warmUp = (m: ChaosMesh, rate: number): Promise<LoadFigures> => runLoad(m, rate, rate * 3);
