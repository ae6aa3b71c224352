/**
 * Circuit breaking through a real proxy: an upstream that holds every request until the
 * test releases it, so "concurrent" is exact. Over the limit the answer is an immediate
 * 503 UO (it arrives while the admitted requests are still held), never a growing queue.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { connect as h2connect, createServer as createH2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import type { ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';
import { adminText, clusterStatsOf, resilienceSnapshot, send, startResilienceProxy, type Reply } from './helpers.ts';

const U32 = 4294967295;
const pool = (o: object) => ({ connectionPool: { maxConnections: U32, connectTimeoutMs: 2000, http1MaxPendingRequests: U32, http2MaxRequests: U32, maxRequestsPerConnection: 0, maxRetries: U32, idleTimeoutMs: 3_600_000, maxConcurrentStreams: 2147483647, ...o } });

async function until(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('circuit breaking (real proxy process)', () => {
  let holder: Upstream;
  let h2: Http2Server;
  let h2Port = 0;
  const h2Addr = allocAddress(74);
  let proxy: ProxyProcess;
  const held: ServerResponse[] = [];
  const heldStreams: ServerHttp2Stream[] = [];

  before(async () => {
    const block = 74;
    holder = await startEcho('holder', allocAddress(block), (req, res) => {
      req.resume();
      held.push(res);
      return true;
    });
    h2 = createH2Server();
    h2.on('stream', (s) => heldStreams.push(s));
    await new Promise<void>((r) => h2.listen(0, h2Addr, r));
    h2Port = (h2.address() as AddressInfo).port;
    const ep = [{ address: holder.address, port: holder.port }];
    proxy = await startResilienceProxy(allocAddress(block), resilienceSnapshot('cb-1', [
      { host: 'one', endpoints: ep, cluster: pool({ maxConnections: 1, http1MaxPendingRequests: 1 }) },
      { host: 'seed', endpoints: ep, cluster: pool({ maxConnections: 100, http1MaxPendingRequests: 50, maxRequestsPerConnection: 2 }) },
      { host: 'h2', endpoints: [{ address: h2Addr, port: h2Port }], protocol: 'http2', cluster: pool({ http2MaxRequests: 1 }) },
    ]));
  });

  after(async () => {
    for (const r of held) r.destroy();
    for (const s of heldStreams) s.destroy();
    await proxy?.stop();
    await holder?.close();
    await new Promise<void>((r) => h2.close(() => r()));
  });

  it('maxConnections 1 (+1 pending): of 10 concurrent requests 8 get 503 UO at once, the 2 others are served', async () => {
    held.length = 0;
    const replies: Reply[] = [];
    const all = Array.from({ length: 10 }, () => send(proxy, 'one').then((r) => (replies.push(r), r)));
    // The 8 rejections arrive while one request is held upstream and one waits for its connection.
    await until(() => replies.length === 8 && held.length === 1, '8 rejections with 1 request upstream');
    for (const r of replies) {
      assert.equal(r.status, 503);
      assert.equal(r.flags, 'UO');
      assert.equal(r.error, 'MESHLET_PROXY_UPSTREAM_OVERFLOW');
    }
    assert.equal(held.length, 1, 'the pending request has not reached the upstream');
    held.shift()!.end('done');
    await until(() => held.length === 1, 'the pending request dispatched');
    held.shift()!.end('done');
    const results = await Promise.all(all);
    assert.equal(results.filter((r) => r.status === 200).length, 2);
    const st = await clusterStatsOf(proxy, 'one');
    assert.equal(st.upstream_rq_pending_overflow, 8);
    assert.ok(st.upstream_cx_overflow! >= 9);
  });

  it('the seed limits (100 connections, 50 pending): 160 concurrent → exactly 10 overflow', async () => {
    held.length = 0;
    const replies: Reply[] = [];
    const all = Array.from({ length: 160 }, () => send(proxy, 'seed').then((r) => (replies.push(r), r)));
    await until(() => replies.length === 10 && held.length === 100, '10 rejections and 100 held');
    assert.ok(replies.every((r) => r.status === 503 && r.flags === 'UO'));
    for (const r of held.splice(0)) r.end('ok');
    await until(() => held.length === 50, 'the 50 pending dispatched');
    for (const r of held.splice(0)) r.end('ok');
    const results = await Promise.all(all);
    assert.equal(results.filter((r) => r.status === 200).length, 150);
  });

  it('HTTP/2 http2MaxRequests 1: 9 of 10 concurrent streams get 503 UO', async () => {
    heldStreams.length = 0;
    const session = h2connect(`http://${proxy.bind}:${proxy.ports.outbound}`);
    try {
      const statuses: { status: number; flags: unknown }[] = [];
      const streams = Array.from({ length: 10 }, () => {
        const s = session.request({ ':path': '/', ':authority': 'h2' });
        s.on('response', (h) => statuses.push({ status: Number(h[':status']), flags: h['x-meshlet-flags'] }));
        s.on('error', () => undefined);
        s.resume();
        s.end();
        return s;
      });
      await until(() => statuses.length === 9 && heldStreams.length === 1, '9 rejections');
      assert.ok(statuses.every((s) => s.status === 503 && s.flags === 'UO'));
      heldStreams[0]!.respond({ ':status': 200 });
      heldStreams[0]!.end('ok');
      await until(() => statuses.length === 10, 'the admitted stream answered');
      assert.equal(statuses.filter((s) => s.status === 200).length, 1);
      for (const s of streams) s.close();
    } finally {
      session.close();
    }
  });

  it('/clusters on the admin port lists the counters', async () => {
    const text = await adminText(proxy, '/clusters');
    assert.match(text, /outbound\|80\|\|one::upstream_rq_pending_overflow::8/);
  });
});
