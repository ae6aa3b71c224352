/**
 * Retries through a real proxy process against upstreams that fail on purpose: 503,
 * refused connections, resets before the response, close mid-body; body replay and its
 * limit; another host on the next attempt; URX when retries run out; admin stats.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import type { ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';
import { clusterStatsOf, resilienceSnapshot, send, startResilienceProxy } from './helpers.ts';

const retry = (attempts: number, retryOn: string[], extra: Record<string, unknown> = {}) => ({ retries: { attempts, perTryTimeoutMs: 0, retryOn, retryRemoteLocalities: false, backoffBaseMs: 25, ...extra } });

describe('retries (real proxy process)', () => {
  let always503: Upstream;
  let flaky: Upstream;
  let resetter: Upstream;
  let midBody: Upstream;
  let good: Upstream;
  let bad: Upstream;
  let proxy: ProxyProcess;
  let refusedPort = 0;
  let failuresLeft = 0;
  let resetsLeft = 0;

  before(async () => {
    const block = 71;
    always503 = await startEcho('always503', allocAddress(block), (req, res) => {
      req.resume();
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('nope');
      return true;
    });
    flaky = await startEcho('flaky', allocAddress(block), (req, res) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        // Answer only after the whole body arrived (so the proxy has seen all of it).
        req.resume();
        req.on('end', () => {
          res.writeHead(503);
          res.end();
        });
        return true;
      }
      return false;
    });
    resetter = await startEcho('resetter', allocAddress(block), (req) => {
      if (resetsLeft > 0) {
        resetsLeft--;
        req.socket.destroy();
        return true;
      }
      return false;
    });
    midBody = await startEcho('midbody', allocAddress(block), (req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('0123456789');
      setTimeout(() => req.socket.destroy(), 10);
      return true;
    });
    good = await startEcho('good', allocAddress(block));
    bad = await startEcho('bad', allocAddress(block), (req, res) => {
      req.resume();
      res.writeHead(503);
      res.end();
      return true;
    });
    // A port that refuses: bind, learn the port, close.
    const s: Server = createServer();
    const refusedAddr = allocAddress(block);
    await new Promise<void>((r) => s.listen(0, refusedAddr, r));
    refusedPort = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const ep = (u: Upstream) => [{ address: u.address, port: u.port }];
    proxy = await startResilienceProxy(allocAddress(block), resilienceSnapshot('retries-1', [
      { host: 'always503', endpoints: ep(always503), route: retry(2, ['5xx']) },
      { host: 'flaky', endpoints: ep(flaky), route: retry(3, ['5xx']) },
      { host: 'resetter', endpoints: ep(resetter), route: retry(2, ['reset']) },
      { host: 'midbody', endpoints: ep(midBody), route: retry(2, ['5xx', 'reset']) },
      { host: 'refused', endpoints: [{ address: refusedAddr, port: refusedPort }, ...ep(good)], route: retry(2, ['connect-failure']) },
      { host: 'onlyrefused', endpoints: [{ address: refusedAddr, port: refusedPort }], route: retry(2, ['connect-failure']) },
      // Ring hash on a header sends every try to the same host unless the retry asks for another one.
      { host: 'pinned', endpoints: [...ep(bad), ...ep(good)], route: retry(1, ['5xx']), cluster: { loadBalancer: { policy: 'RING_HASH', hashOn: { kind: 'header', name: 'x-user' } } } },
      { host: 'noretry', endpoints: ep(bad), route: retry(2, ['connect-failure']) },
    ]));
  });

  after(async () => {
    await proxy?.stop();
    for (const u of [always503, flaky, resetter, midBody, good, bad]) await u?.close();
  });

  it('3 attempts (2 retries) reach an always-503 upstream exactly 3 times, then 503 with URX', async () => {
    let hits = 0;
    always503.server.prependListener('request', () => hits++);
    const r = await send(proxy, 'always503');
    assert.equal(r.status, 503);
    assert.equal(r.body, 'nope', 'the last upstream response is passed through');
    assert.equal(r.flags, 'URX');
    assert.equal(hits, 3);
    const st = await clusterStatsOf(proxy, 'always503');
    assert.equal(st.upstream_rq_retry, 2);
    assert.equal(st.upstream_rq_retry_limit_exceeded, 1);
  });

  it('a 503 then success is retried transparently; the POST body is replayed', async () => {
    failuresLeft = 2;
    const before = flaky.seen.length;
    const r = await send(proxy, 'flaky', { method: 'POST', body: 'hello body' });
    assert.equal(r.status, 200);
    assert.equal(r.flags, undefined);
    assert.equal(JSON.parse(r.body).body, 'hello body');
    assert.equal(flaky.seen.length, before + 1);
    const st = await clusterStatsOf(proxy, 'flaky');
    assert.equal(st.upstream_rq_retry, 2);
    assert.equal(st.upstream_rq_retry_success, 1);
  });

  it('a body beyond the 1 MiB replay buffer is not retried', async () => {
    failuresLeft = 1;
    const big = Buffer.alloc((1 << 20) + 4096, 'a');
    const r = await send(proxy, 'flaky', { method: 'POST', body: big });
    assert.equal(r.status, 503);
    assert.equal(r.flags, 'URX');
    assert.equal(failuresLeft, 0);
  });

  it('retries a reset before the response (retryOn reset)', async () => {
    resetsLeft = 2;
    const r = await send(proxy, 'resetter', { path: '/reset' });
    assert.equal(r.status, 200);
    assert.equal(resetsLeft, 0);
    const st = await clusterStatsOf(proxy, 'resetter');
    assert.equal(st.upstream_rq_reset, 2);
  });

  it('never retries once the response started: a close mid-body resets the client', async () => {
    let hits = 0;
    midBody.server.prependListener('request', () => hits++);
    await assert.rejects(send(proxy, 'midbody'));
    assert.equal(hits, 1);
  });

  it('connect-failure: the refused endpoint is retried on the good one', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await send(proxy, 'refused');
      assert.equal(r.status, 200, `request ${i}`);
    }
    const st = await clusterStatsOf(proxy, 'refused');
    assert.ok(st.upstream_cx_connect_fail! >= 3, JSON.stringify(st));
    assert.ok(st.upstream_rq_retry! >= 3);
    const r = await send(proxy, 'onlyrefused');
    assert.equal(r.status, 503);
    assert.equal(r.flags, 'UF,URX');
    assert.equal(r.error, 'MESHLET_PROXY_UPSTREAM_CONNECT');
  });

  it('the next attempt goes to another host even when the balancer hashes to the failing one', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await send(proxy, 'pinned', { headers: { 'x-user': `u${i}` } });
      assert.equal(r.status, 200, `user u${i}`);
      assert.equal(JSON.parse(r.body).name, 'good');
    }
  });

  it('a status not in retryOn is not retried', async () => {
    let hits = 0;
    bad.server.prependListener('request', () => hits++);
    const r = await send(proxy, 'noretry');
    assert.equal(r.status, 503);
    assert.equal(r.flags, undefined);
    assert.equal(hits, 1);
  });
});
