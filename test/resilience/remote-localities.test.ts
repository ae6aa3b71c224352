/**
 * retryRemoteLocalities through a real proxy in locality r1/z1/s1: the local endpoint
 * answers 503, the remote one 200. The balancer only uses the best locality, so a retry
 * can reach the remote endpoint only when the route allows remote localities.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import type { ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';
import { resilienceSnapshot, send, startResilienceProxy } from './helpers.ts';

describe('retryRemoteLocalities (real proxy process)', () => {
  let local: Upstream;
  let remote: Upstream;
  let proxy: ProxyProcess;
  let localHits = 0;

  before(async () => {
    const block = 78;
    local = await startEcho('local', allocAddress(block), (req, res) => {
      localHits++;
      req.resume();
      res.writeHead(503);
      res.end();
      return true;
    });
    remote = await startEcho('remote', allocAddress(block));
    const snap = resilienceSnapshot('loc-1', [
      { host: 'stay', endpoints: [], route: { retries: { attempts: 2, perTryTimeoutMs: 0, retryOn: ['5xx'], retryRemoteLocalities: false, backoffBaseMs: 25 } } },
      { host: 'leave', endpoints: [], route: { retries: { attempts: 2, perTryTimeoutMs: 0, retryOn: ['5xx'], retryRemoteLocalities: true, backoffBaseMs: 25 } } },
    ]);
    // Same endpoints for both services: one local, one in another region.
    for (const set of snap.endpoints) {
      set.endpoints = [
        { address: local.address, port: local.port, labels: {}, weight: 1, healthy: true, locality: { region: 'r1', zone: 'z1', subzone: 's1' } },
        { address: remote.address, port: remote.port, labels: {}, weight: 1, healthy: true, locality: { region: 'r2', zone: 'z9', subzone: 's9' } },
      ];
    }
    proxy = await startResilienceProxy(allocAddress(block), snap, ['--locality', 'r1/z1/s1']);
  });

  after(async () => {
    await proxy?.stop();
    await local?.close();
    await remote?.close();
  });

  it('without it, every try stays in the local locality: 3 tries, 503 URX', async () => {
    localHits = 0;
    const r = await send(proxy, 'stay');
    assert.equal(r.status, 503);
    assert.equal(r.flags, 'URX');
    assert.equal(localHits, 3);
  });

  it('with it, the retry leaves for the remote locality once the local host failed', async () => {
    localHits = 0;
    const r = await send(proxy, 'leave');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).name, 'remote');
    assert.equal(localHits, 1);
  });
});
