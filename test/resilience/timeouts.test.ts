/**
 * Route timeout and perTryTimeout through a real proxy against an upstream that stalls.
 * Assertions are on statuses, flags and counts; the timeouts are short but nothing here
 * depends on how fast the machine is (a stall never answers; a slow machine only waits longer).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import type { ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';
import { acceptEcho, wsClient } from '../proxy/helpers/ws.ts';
import { clusterStatsOf, resilienceSnapshot, send, startResilienceProxy } from './helpers.ts';

describe('timeouts (real proxy process)', () => {
  let staller: Upstream;
  let stallFirst: Upstream;
  let streamer: Upstream;
  let proxy: ProxyProcess;
  let stalls = 0;
  let stallFirstLeft = 0;

  before(async () => {
    const block = 72;
    // Never answers (the response would be the proxy's timeout).
    staller = await startEcho('staller', allocAddress(block), (req) => {
      stalls++;
      req.resume();
      return true;
    });
    stallFirst = await startEcho('stallfirst', allocAddress(block), (req) => {
      if (stallFirstLeft > 0) {
        stallFirstLeft--;
        req.resume();
        return true;
      }
      return false;
    });
    // Sends headers and a first chunk, then the rest only when told.
    streamer = await startEcho('streamer', allocAddress(block), (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      req.resume();
      const t = setTimeout(() => res.end('last'), 30_000);
      res.once('close', () => clearTimeout(t));
      return true;
    });
    streamer.server.on('upgrade', (req, socket: Socket) => acceptEcho(req, socket));
    const ep = (u: Upstream) => [{ address: u.address, port: u.port }];
    const r = (o: object) => ({ retries: { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retryRemoteLocalities: false, backoffBaseMs: 25, ...o } });
    proxy = await startResilienceProxy(allocAddress(block), resilienceSnapshot('timeouts-1', [
      { host: 'stall', endpoints: ep(staller), route: { timeoutMs: 300 } },
      { host: 'pertry', endpoints: ep(stallFirst), route: { timeoutMs: 20_000, ...r({ attempts: 2, perTryTimeoutMs: 300, retryOn: ['5xx'] }) } },
      { host: 'spans', endpoints: ep(staller), route: { timeoutMs: 500, ...r({ attempts: 50, perTryTimeoutMs: 200, retryOn: ['5xx'] }) } },
      { host: 'pertry-noretry', endpoints: ep(staller), route: r({ attempts: 2, perTryTimeoutMs: 200, retryOn: ['connect-failure'] }) },
      { host: 'stream', endpoints: ep(streamer), route: { timeoutMs: 300 } },
    ]));
  });

  after(async () => {
    await proxy?.stop();
    for (const u of [staller, stallFirst, streamer]) await u?.close();
  });

  it('route timeout: a stalled upstream gives 504 with flag UT', async () => {
    const r = await send(proxy, 'stall');
    assert.equal(r.status, 504);
    assert.equal(r.flags, 'UT');
    assert.equal(r.error, 'MESHLET_PROXY_UPSTREAM_TIMEOUT');
    const st = await clusterStatsOf(proxy, 'stall');
    assert.equal(st.upstream_rq_timeout, 1);
  });

  it('perTryTimeout: the stalled first try is abandoned and the retry answers', async () => {
    stallFirstLeft = 1;
    const r = await send(proxy, 'pertry');
    assert.equal(r.status, 200);
    assert.equal(stallFirstLeft, 0);
    const st = await clusterStatsOf(proxy, 'pertry');
    assert.equal(st.upstream_rq_per_try_timeout, 1);
    assert.equal(st.upstream_rq_retry, 1);
  });

  it('the route timeout spans all attempts: 50 retries allowed, the 500 ms route timeout ends them', async () => {
    stalls = 0;
    const r = await send(proxy, 'spans');
    assert.equal(r.status, 504);
    assert.match(r.flags ?? '', /^UT/);
    // 500 ms / 200 ms per try: at most 3 tries fit, far from the 51 allowed.
    assert.ok(stalls >= 1 && stalls <= 3, `tries: ${stalls}`);
  });

  it('a per-try timeout not covered by retryOn answers 504 UT at once', async () => {
    stalls = 0;
    const r = await send(proxy, 'pertry-noretry');
    assert.equal(r.status, 504);
    assert.equal(r.flags, 'UT');
    assert.equal(stalls, 1);
  });

  it('a WebSocket upgrade on a route with a timeout is not cut once upgraded (101 disarms the route timeout)', async () => {
    const ws = await wsClient(proxy.bind, proxy.ports.outbound, 'stream', '/ws');
    try {
      assert.match(ws.status, /^HTTP\/1\.1 101/);
      ws.send('one');
      assert.equal(await ws.next(), 'echo:one');
      // Well past the 300 ms route timeout.
      await new Promise((r) => setTimeout(r, 700));
      ws.send('two');
      assert.equal(await ws.next(), 'echo:two');
    } finally {
      ws.close();
    }
  });

  it('Envoy semantics: the route timeout covers the whole response, so a stalled streamed body is reset with UT', async () => {
    const { request } = await import('undici');
    const res = await request(`http://${proxy.bind}:${proxy.ports.outbound}/`, { headers: { host: 'stream' } });
    assert.equal(res.statusCode, 200, 'headers went out before the timeout');
    await assert.rejects(res.body.text());
    const st = await clusterStatsOf(proxy, 'stream');
    assert.equal(st.upstream_rq_timeout, 1);
  });
});
