/**
 * Fault injection through a real proxy: aborts (HTTP status, gRPC status as trailers-only
 * HTTP 200), delays (flag DI, counted in /stats), and a 10% abort over 10,000 requests
 * landing within ±1 point (a bounded, concurrent loop).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { Pool } from 'undici';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import type { ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';
import { clusterStatsOf, proxyUrl, resilienceSnapshot, send, startResilienceProxy } from './helpers.ts';

describe('fault injection (real proxy process)', () => {
  let echo: Upstream;
  let proxy: ProxyProcess;

  before(async () => {
    const block = 73;
    echo = await startEcho('echo', allocAddress(block));
    const ep = [{ address: echo.address, port: echo.port }];
    proxy = await startResilienceProxy(allocAddress(block), resilienceSnapshot('fault-1', [
      { host: 'abort', endpoints: ep, route: { fault: { abort: { httpStatus: 418, percentage: 100 } } } },
      { host: 'grpcabort', endpoints: ep, route: { fault: { abort: { grpcStatus: 'UNAVAILABLE', percentage: 100 } } } },
      { host: 'delay', endpoints: ep, route: { fault: { delay: { fixedDelayMs: 200, percentage: 100 } } } },
      { host: 'both', endpoints: ep, route: { fault: { delay: { fixedDelayMs: 50, percentage: 100 }, abort: { httpStatus: 500, percentage: 100 } } } },
      { host: 'ten', endpoints: ep, route: { fault: { abort: { httpStatus: 503, percentage: 10 } } } },
    ]));
  });

  after(async () => {
    await proxy?.stop();
    await echo?.close();
  });

  it('abort 100%: the status is answered locally with flag FI; the upstream sees nothing', async () => {
    const before = echo.seen.length;
    const r = await send(proxy, 'abort');
    assert.equal(r.status, 418);
    assert.equal(r.flags, 'FI');
    assert.equal(r.error, 'MESHLET_PROXY_FAULT_ABORT');
    assert.equal(echo.seen.length, before);
  });

  it('gRPC abort: HTTP 200 with grpc-status 14 (trailers-only) over h2c', async () => {
    const session = h2connect(`http://${proxy.bind}:${proxy.ports.outbound}`);
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': '/echo.Echo/Unary', ':authority': 'grpcabort', 'content-type': 'application/grpc', te: 'trailers' });
        s.on('response', (h) => resolve(h));
        s.on('error', reject);
        s.end();
        s.resume();
      });
      assert.equal(headers[':status'], 200);
      assert.equal(headers['grpc-status'], '14');
      assert.equal(headers['content-type'], 'application/grpc');
      assert.equal(headers['x-meshlet-flags'], 'FI');
    } finally {
      session.close();
    }
  });

  it('delay 100%: the request still succeeds, held at least fixedDelay, and is counted', async () => {
    const t0 = performance.now();
    const r = await send(proxy, 'delay');
    assert.equal(r.status, 200);
    // A lower bound only: a slow machine cannot make this fail.
    assert.ok(performance.now() - t0 >= 190);
    const st = await clusterStatsOf(proxy, 'delay');
    assert.equal(st.fault_delays_injected, 1);
  });

  it('delay then abort: flags DI,FI', async () => {
    const r = await send(proxy, 'both');
    assert.equal(r.status, 500);
    assert.equal(r.flags, 'DI,FI');
  });

  it('10% abort over 10,000 requests lands within ±1 point', async () => {
    const pool = new Pool(proxyUrl(proxy).replace(/\/$/, ''), { connections: 16, pipelining: 1 });
    const N = 10_000;
    let aborted = 0;
    let ok = 0;
    let next = 0;
    const deadline = Date.now() + 120_000;
    const worker = async (): Promise<void> => {
      while (next < N && Date.now() < deadline) {
        next++;
        const res = await pool.request({ path: '/', method: 'GET', headers: { host: 'ten' } });
        await res.body.dump();
        if (res.statusCode === 503 && res.headers['x-meshlet-flags'] === 'FI') aborted++;
        else if (res.statusCode === 200) ok++;
      }
    };
    try {
      await Promise.all(Array.from({ length: 16 }, worker));
    } finally {
      await pool.close();
    }
    assert.equal(aborted + ok, N, 'every request answered (and within the 120 s bound)');
    const pct = (100 * aborted) / N;
    assert.ok(pct >= 9 && pct <= 11, `aborted ${pct}%`);
    const st = await clusterStatsOf(proxy, 'ten');
    assert.equal(st.fault_aborts_injected, aborted);
  });
});
