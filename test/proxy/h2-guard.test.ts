/**
 * The parts of the HTTP/2 hardening that need no proxy process: the reset budget (pure, driven
 * stream by stream) and the idle reaping of upstream pools (a real undici pool against a real
 * server that sends no Keep-Alive hint, as Python's and Go's servers do).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { RESET_BURST, ResetBudget } from '../../proxy/listeners/h2-guard.ts';
import { PoolRegistry, MAX_UPSTREAM_IDLE_MS } from '../../proxy/upstream/pools.ts';
import type { EndpointState } from '../../proxy/balancer/index.ts';
import { allocAddress } from './helpers/addresses.ts';
import { cluster } from './helpers/snapshot.ts';

describe('ResetBudget', () => {
  it('spends the budget on a connection that only resets: GOAWAY at reset burst + 1', () => {
    const b = new ResetBudget(RESET_BURST);
    let at = 0;
    for (let i = 1; i <= 1000 && at === 0; i++) {
      b.stream();
      if (b.reset()) at = i;
    }
    assert.equal(at, RESET_BURST + 1);
  });

  it('never trips for a client that cancels under half of its streams, however many', () => {
    const b = new ResetBudget(RESET_BURST);
    for (let i = 0; i < 100_000; i++) {
      b.stream();
      b.stream();
      b.stream();
      assert.equal(b.reset(), false, `tripped at ${b.resets} resets of ${b.streams} streams`);
    }
  });

  it('trips once resets pass half the streams after the burst', () => {
    const b = new ResetBudget(10);
    for (let i = 0; i < 20; i++) b.stream();
    const verdicts = Array.from({ length: 11 }, () => b.reset());
    // 11 resets of 20 streams: over the burst and over half.
    assert.deepEqual(verdicts.map((v, i) => (v ? i + 1 : 0)).filter((n) => n > 0), [11]);
  });
});

describe('upstream pool idle reaping', () => {
  async function idleServer(): Promise<{ url: { address: string; port: number }; open: () => number; close: () => Promise<void> }> {
    let open = 0;
    const server = createServer((_req, res) => res.end('ok'));
    // No Keep-Alive hint and no server-side idle close: only the client's timeout can reap.
    server.keepAliveTimeout = 0;
    server.on('connection', (s) => {
      open++;
      s.once('close', () => open--);
    });
    await new Promise<void>((r) => server.listen(0, allocAddress(70), r));
    const a = server.address() as AddressInfo;
    return { url: { address: a.address, port: a.port }, open: () => open, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
  }

  async function burst(reg: PoolRegistry, idleTimeoutMs: number, url: { address: string; port: number }, n: number): Promise<void> {
    const c = cluster('outbound|80||idle', [url]);
    c.cluster.connectionPool.idleTimeoutMs = idleTimeoutMs;
    const ep = { key: `${url.address}:${url.port}`, endpoint: c.set.endpoints[0]!, active: 0 } as unknown as EndpointState;
    const pool = reg.get({ cluster: c.cluster, h2: false }, ep);
    // Through the pool's dispatch contract (meshlet's HTTP/1.1 pool or undici's, same handler).
    const one = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const handler: Dispatcher.DispatchHandler = {
          onRequestStart: () => undefined,
          onResponseStart: () => undefined,
          onResponseData: () => undefined,
          onResponseEnd: () => resolve(),
          onResponseError: (_c, err) => reject(err),
        };
        pool.dispatch({ path: '/', method: 'GET', headers: { host: 'idle' }, body: null }, handler);
      });
    await Promise.all(Array.from({ length: n }, one));
  }

  async function until(cond: () => boolean, tries: number): Promise<boolean> {
    for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
    return cond();
  }

  for (const undiciHttp1 of [false, true]) {
    const kind = undiciHttp1 ? 'undici pool' : 'meshlet HTTP/1.1 pool';
    it(`${kind}: closes idle connections after the bound even with the 1 h DestinationRule default`, async () => {
      assert.equal(MAX_UPSTREAM_IDLE_MS, 60_000);
      const s = await idleServer();
      const reg = new PoolRegistry({ maxIdleMs: 300, undiciHttp1 });
      try {
        await burst(reg, 3_600_000, s.url, 20);
        assert.ok(s.open() > 1, `the burst opened ${s.open()} connections`);
        assert.ok(await until(() => s.open() === 0, 200), `still ${s.open()} idle connections open`);
      } finally {
        await reg.closeAll();
        await s.close();
      }
    });

    it(`${kind}: keeps a shorter DestinationRule idleTimeout`, async () => {
      const s = await idleServer();
      // The bound is far away: only the DestinationRule's 300 ms can close them.
      const reg = new PoolRegistry({ maxIdleMs: 3_600_000, undiciHttp1 });
      try {
        await burst(reg, 300, s.url, 5);
        assert.ok(s.open() > 0);
        assert.ok(await until(() => s.open() === 0, 200), `still ${s.open()} idle connections open`);
      } finally {
        await reg.closeAll();
        await s.close();
      }
    });
  }
});
