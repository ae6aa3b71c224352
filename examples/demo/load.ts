/**
 * The demo's built-in load: requests to the frontend at a fixed rate with bounded
 * concurrency and a bounded total; a share of them as premium users (`user-tier: premium`).
 */
import { request } from 'node:http';

export interface LoadResult {
  premium: boolean;
  status: number;
  /** Which reviews version answered (the frontend's `x-demo-reviews-version`). */
  version: string;
  ms: number;
}

export function getOnce(host: string, port: number, premium: boolean, timeoutMs: number): Promise<LoadResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/product', headers: premium ? { 'user-tier': 'premium' } : {}, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ premium, status: res.statusCode ?? 0, version: String(res.headers['x-demo-reviews-version'] ?? 'none'), ms: performance.now() - started }));
      res.on('error', () => resolve({ premium, status: 0, version: 'none', ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ premium, status: 0, version: 'none', ms: performance.now() - started }));
    req.end();
  });
}

export interface LoadOptions {
  host: string;
  port: number;
  rps: number;
  concurrency: number;
  premiumShare: number;
  /** Hard cap on requests sent. */
  maxRequests: number;
  random: () => number;
  onResult: (r: LoadResult) => void;
}

/** Runs until stop() or maxRequests; resolves when in-flight requests are done. */
export function startLoad(o: LoadOptions): { stop(): void; done: Promise<number> } {
  let sent = 0;
  let inflight = 0;
  let stopped = false;
  let finish: (n: number) => void = () => undefined;
  const done = new Promise<number>((r) => (finish = r));
  const tick = setInterval(() => {
    if (stopped || sent >= o.maxRequests) {
      clearInterval(tick);
      stopped = true;
      if (inflight === 0) finish(sent);
      return;
    }
    if (inflight >= o.concurrency) return;
    sent++;
    inflight++;
    void getOnce(o.host, o.port, o.random() < o.premiumShare, 5000).then((r) => {
      inflight--;
      o.onResult(r);
      if (stopped && inflight === 0) finish(sent);
    });
  }, Math.max(1, Math.round(1000 / o.rps)));
  return {
    stop() {
      stopped = true;
    },
    done,
  };
}
