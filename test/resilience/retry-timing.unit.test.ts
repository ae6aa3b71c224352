/**
 * The retry and timeout features composed around a scripted terminal, on a manual clock:
 * when each attempt starts (jittered backoff), per-try timeouts, and the route timeout
 * spanning attempts — all without waiting on the wall clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RetryPolicy, Route } from '../../common/snapshot.ts';
import { compose } from '../../proxy/chain/compose.ts';
import type { Headers, ProxyFailure, RequestContext, ResponseSink, RouteRuntime } from '../../proxy/chain/types.ts';
import { ManualClock } from '../../common/clock.ts';
import { compileCluster } from '../../proxy/runtime/clusters.ts';
import { cluster } from '../proxy/helpers/snapshot.ts';
import { retryFeature } from '../../proxy/resilience/retry.ts';
import { timeoutFeature } from '../../proxy/resilience/timeout.ts';

interface Seen {
  starts: { status: number; headers: Headers }[];
  fails: ProxyFailure[];
  ends: number;
}

function recordingSink(seen: Seen, ctx: { flags: string }): ResponseSink {
  return {
    start: (status, headers) => seen.starts.push({ status, headers }),
    data: () => true,
    end: () => seen.ends++,
    fail: (f) => {
      ctx.flags = ctx.flags === '' ? f.flag : `${ctx.flags},${f.flag}`;
      seen.fails.push(f);
    },
  };
}

function setup(retries: Partial<RetryPolicy>, timeoutMs: number, terminal: (ctx: RequestContext, n: number) => void, random = () => 0.5, destination?: unknown) {
  const clock = new ManualClock();
  const route = { name: 'r', match: [], action: { kind: 'forward', destinations: [] }, timeoutMs, retries: { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retryRemoteLocalities: false, backoffBaseMs: 25, ...retries }, provenance: { kind: 'VirtualService', namespace: 'd', name: 'r' } } as Route;
  const rt = { route, virtualHost: 'v', destinations: [], rewritePath: undefined, mirrors: [], requestHeaders: undefined, responseHeaders: undefined } as RouteRuntime;
  let n = 0;
  const handler = compose([timeoutFeature(clock), retryFeature({ clock, random, bufferLimit: 1 << 20 })], (ctx) => terminal(ctx, ++n), rt);
  const fresh = (): { ctx: RequestContext; seen: Seen } => {
    const seen: Seen = { starts: [], fails: [], ends: 0 };
    const ctx = { req: { headers: {}, readableEnded: true, once: () => undefined }, res: { once: () => undefined, destroyed: false }, headers: {}, flags: '', destination, endpoint: undefined } as unknown as RequestContext;
    ctx.sink = recordingSink(seen, ctx);
    return { ctx, seen };
  };
  const first = fresh();
  const seen = first.seen;
  const ctx = first.ctx;
  return { clock, seen, ctx, run: () => handler(ctx), calls: () => n, another: () => {
    const f = fresh();
    handler(f.ctx);
    return f.seen;
  } };
}

describe('retry and timeout timing (manual clock)', () => {
  it('attempts start after fully jittered backoff: 12, 25, 50 ms with random 0.5', () => {
    const s = setup({ attempts: 3, retryOn: ['5xx'] }, 0, (ctx) => ctx.sink.start(503, {}));
    s.run();
    assert.equal(s.calls(), 1);
    const gaps = [12, 25, 50];
    for (const [i, gap] of gaps.entries()) {
      s.clock.advance(gap - 1);
      assert.equal(s.calls(), i + 1, `retry ${i + 1} not before ${gap} ms`);
      s.clock.advance(1);
      assert.equal(s.calls(), i + 2, `retry ${i + 1} at ${gap} ms`);
    }
    assert.equal(s.seen.starts.length, 1, 'only the last response reaches the client');
    assert.equal(s.seen.starts[0]!.status, 503);
    assert.equal(s.seen.starts[0]!.headers['x-meshlet-flags'], 'URX');
    assert.equal(s.clock.pending, 0);
  });

  it('per-try timeout aborts the attempt and retries; the next attempt answers', () => {
    const aborted: number[] = [];
    const s = setup({ attempts: 2, perTryTimeoutMs: 100, retryOn: ['5xx'] }, 0, (ctx, n) => {
      (ctx.sink as { onUpstream?: (a: { abort: (e: Error) => void }) => void }).onUpstream?.({ abort: () => aborted.push(n) });
      if (n === 2) ctx.sink.start(200, {});
    }, () => 0);
    s.run();
    s.clock.advance(99);
    assert.equal(s.calls(), 1);
    s.clock.advance(1);
    assert.deepEqual(aborted, [1]);
    assert.equal(s.calls(), 2, 'backoff 0 with random 0');
    assert.equal(s.seen.starts[0]!.status, 200);
    assert.equal(s.clock.pending, 0, 'the second per-try timer was cleared');
  });

  it('the route timeout spans attempts: 250 ms over 100 ms tries ends the third try with 504 UT', () => {
    const aborted: number[] = [];
    const s = setup({ attempts: 10, perTryTimeoutMs: 100, retryOn: ['5xx'] }, 250, (ctx, n) => {
      (ctx.sink as { onUpstream?: (a: { abort: (e: Error) => void }) => void }).onUpstream?.({ abort: () => aborted.push(n) });
    }, () => 0);
    s.run();
    s.clock.advance(249);
    assert.equal(s.calls(), 3);
    assert.equal(s.seen.fails.length, 0);
    s.clock.advance(1);
    assert.equal(s.seen.fails.length, 1);
    assert.equal(s.seen.fails[0]!.flag, 'UT');
    assert.equal(s.seen.fails[0]!.status, 504);
    assert.deepEqual(aborted, [1, 2, 3], 'every try was aborted, the last by the route timeout');
    s.clock.advance(10_000);
    assert.equal(s.calls(), 3, 'no attempt after the route timeout');
    assert.equal(s.clock.pending, 0);
  });

  it('a connect failure is retried at once when retryOn has connect-failure; UF,URX when exhausted', () => {
    const s = setup({ attempts: 1, retryOn: ['connect-failure'] }, 0, (ctx) => ctx.sink.fail({ flag: 'UF', code: 'MESHLET_PROXY_UPSTREAM_CONNECT', status: 503 }, false), () => 0);
    s.run();
    s.clock.advance(0);
    assert.equal(s.calls(), 2);
    assert.equal(s.seen.fails[0]!.flag, 'UF,URX');
  });

  it('maxRetries 1: while one request is retrying, the retry of another overflows (503 with UO, no retry)', () => {
    const c = cluster('outbound|80||mr', [{ address: '127.0.0.1', port: 1 }]);
    c.cluster.connectionPool.maxRetries = 1;
    const dest = { cluster: compileCluster(c.cluster, c.set, undefined) };
    const s = setup({ attempts: 3, retryOn: ['5xx'] }, 0, (ctx) => ctx.sink.start(503, {}), () => 0.5, dest);
    s.run();
    assert.equal(s.calls(), 1, 'first request: retry scheduled, holding the only retry slot');
    const second = s.another();
    assert.equal(s.calls(), 2);
    assert.equal(second.starts.length, 1, 'the second request is answered at once');
    assert.equal(second.starts[0]!.headers['x-meshlet-flags'], 'UO');
    s.clock.advance(1000);
    assert.equal(s.calls(), 5, 'the first request still ran its 3 retries');
    assert.equal(s.seen.starts[0]!.headers['x-meshlet-flags'], 'URX');
  });
});
