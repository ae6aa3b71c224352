/**
 * Outlier detection through a real proxy: after 5 consecutive 5xx a host gets no traffic
 * until its ejection time passes, then it is back. The ejection time is real time here
 * (3 s): the test asserts "none while ejected" on a burst sent right after the ejection
 * and "back eventually" with a bounded poll; exact timing is covered on a manual clock in
 * outlier.unit.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import type { ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';
import { adminText, clusterStatsOf, resilienceSnapshot, send, startResilienceProxy } from './helpers.ts';

describe('outlier detection (real proxy process)', () => {
  let sick: Upstream;
  let well: Upstream;
  let proxy: ProxyProcess;
  let failing = true;
  let sickHits = 0;

  before(async () => {
    const block = 75;
    sick = await startEcho('sick', allocAddress(block), (req, res) => {
      sickHits++;
      if (!failing) return false;
      req.resume();
      res.writeHead(503);
      res.end();
      return true;
    });
    well = await startEcho('well', allocAddress(block));
    const dead = createServer();
    const deadAddr = allocAddress(block);
    await new Promise<void>((r) => dead.listen(0, deadAddr, r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    proxy = await startResilienceProxy(allocAddress(block), resilienceSnapshot('od-1', [
      {
        host: 'local-origin',
        endpoints: [{ address: deadAddr, port: deadPort }, { address: well.address, port: well.port }],
        cluster: { outlierDetection: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 3, intervalMs: 1000, baseEjectionTimeMs: 60_000, maxEjectionPercent: 50, minHealthPercent: 0 } },
      },
      {
        host: 'svc',
        endpoints: [{ address: sick.address, port: sick.port }, { address: well.address, port: well.port }],
        cluster: { outlierDetection: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 0, intervalMs: 200, baseEjectionTimeMs: 3000, maxEjectionPercent: 100, minHealthPercent: 0 } },
      },
    ]));
  });

  after(async () => {
    await proxy?.stop();
    await sick?.close();
    await well?.close();
  });

  it('5 consecutive 5xx eject the host; it gets no traffic until the ejection time passed, then returns', async () => {
    // Round robin alternates: 10 requests give the sick host its 5 consecutive 503s.
    let n503 = 0;
    for (let i = 0; i < 10; i++) if ((await send(proxy, 'svc')).status === 503) n503++;
    assert.equal(n503, 5);
    assert.equal(sickHits, 5);
    const st = await clusterStatsOf(proxy, 'svc');
    assert.equal(st.outlier_detection_ejections_enforced_consecutive_5xx, 1);
    assert.equal(st.outlier_detection_ejections_active, 1);
    assert.match(await adminText(proxy, '/clusters'), new RegExp(`${sick.address}:${sick.port}::health_flags::/failed_outlier_check`));
    // Ejected: a burst all lands on the healthy host.
    for (let i = 0; i < 20; i++) {
      const r = await send(proxy, 'svc');
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).name, 'well');
    }
    assert.equal(sickHits, 5, 'the ejected host saw nothing');
    // Healed; after its ejection time it receives traffic again (bounded poll).
    failing = false;
    const deadline = Date.now() + 20_000;
    while (sickHits === 5 && Date.now() < deadline) {
      await send(proxy, 'svc');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(sickHits > 5, 'the host came back after its ejection time');
    assert.equal((await clusterStatsOf(proxy, 'svc')).outlier_detection_ejections_active, 0);
  });

  it('consecutiveLocalOriginFailures 3: a refusing endpoint is ejected after 3 connect failures', async () => {
    let uf = 0;
    for (let i = 0; i < 6; i++) {
      const r = await send(proxy, 'local-origin');
      if (r.status === 503) {
        assert.equal(r.flags, 'UF');
        uf++;
      }
    }
    assert.equal(uf, 3);
    const st = await clusterStatsOf(proxy, 'local-origin');
    assert.equal(st.outlier_detection_ejections_enforced_consecutive_local_origin_failure, 1);
    for (let i = 0; i < 10; i++) assert.equal((await send(proxy, 'local-origin')).status, 200);
  });
});
