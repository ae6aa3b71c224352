/**
 * The proxy against a scripted control plane over HTTPS (long-poll, ACK/NACK): first config
 * makes it ready; a killed and restarted control plane costs 0 failed requests; an invalid
 * snapshot is NACKed with its catalog code and the old config keeps serving; a valid
 * update is swapped in and ACKed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { allocAddress } from './helpers/addresses.ts';
import { ControlPlane } from './helpers/control-plane.ts';
import { startProxyProcess, type ProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';
import { startEcho, type Upstream } from './helpers/upstream.ts';

describe('proxy config push (scripted control plane)', () => {
  let a: Upstream, b: Upstream;
  let cp: ControlPlane;
  let proxy: ProxyProcess;
  let pool: Pool;
  let dir = '';
  const A = 'outbound|9080||a.default.svc.cluster.local';
  const B = 'outbound|9080||b.default.svc.cluster.local';
  const snap = (version: string, dest: string) =>
    snapshot(version, {
      listeners: [listener(9080, { routeTable: '9080' })],
      tables: [table('9080', [{ domains: ['svc', 'svc:9080'], routes: [route('all', [], forward(dest))] }])],
      clusters: [cluster(A, [{ address: a.address, port: a.port }]), cluster(B, [{ address: b.address, port: b.port }])],
    });

  before(async () => {
    a = await startEcho('a', allocAddress(63));
    b = await startEcho('b', allocAddress(63));
    cp = new ControlPlane(allocAddress(63), snap('v1', A) as never, 2_000);
    await cp.start();
    const bind = allocAddress(63);
    dir = mkdtempSync(join(tmpdir(), 'meshlet-cp-'));
    writeFileSync(join(dir, 'ca.pem'), cp.ca);
    proxy = await startProxyProcess({
      bind,
      args: ['--operator', cp.url, '--ca-file', join(dir, 'ca.pem'), '--backoff-base-ms', '100', '--backoff-max-ms', '1000'],
      env: { POD_NAME: 'web-1', POD_NAMESPACE: 'default', SERVICE_ACCOUNT: 'web', POD_LABELS: 'app=web,version=v1' },
    });
    pool = new Pool(`http://${bind}:${proxy.ports.outbound}`, { connections: 4 });
  });

  after(async () => {
    await pool?.close();
    await proxy?.stop();
    await cp?.kill();
    await Promise.all([a?.close(), b?.close()]);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const who = async (): Promise<string> => {
    const r = await pool.request({ path: '/', method: 'GET', headers: { host: 'svc:9080' } });
    const name = String(r.headers['x-upstream'] ?? r.statusCode);
    await r.body.dump();
    return name;
  };
  const readyStatus = async () => (await fetch(`http://${proxy.bind}:${proxy.ports.ready}/healthz/ready`)).status;

  it('gets its first snapshot by long-poll, becomes ready and ACKs it', async () => {
    const first = await cp.waitFor((r) => r.proxy === 'web-1.default');
    assert.equal(first.version, '');
    await cp.waitFor((r) => r.ack === 'v1' && r.version === 'v1');
    assert.equal(await readyStatus(), 200);
    assert.equal(await who(), 'a');
  });

  it('keeps serving the last good config with 0 failures while the control plane is killed and restarted', async () => {
    await cp.kill();
    const seenBefore = cp.seen.length;
    let failures = 0;
    for (let i = 0; i < 300; i++) if ((await who()) !== 'a') failures++;
    assert.equal(await readyStatus(), 200, 'still ready on the last good config');
    await cp.start();
    await cp.waitFor((r) => cp.seen.indexOf(r) >= seenBefore && r.version === 'v1');
    for (let i = 0; i < 100; i++) if ((await who()) !== 'a') failures++;
    assert.equal(failures, 0);
  });

  it('NACKs an invalid snapshot with its catalog code and keeps the old config', async () => {
    const bad = snap('v2-bad', A);
    bad.routes[0]!.virtualHosts[0]!.routes[0]!.action = forward('outbound|1||missing.default.svc.cluster.local');
    cp.push(bad as never);
    const nack = await cp.waitFor((r) => r.nack === 'v2-bad');
    assert.match(nack.error ?? '', /^MESHLET_SNAPSHOT_INVALID: routes\[0\]\.virtualHosts\[0\]\.routes\[0\]\.action\.destinations\[0\]\.cluster/);
    assert.equal(nack.version, 'v1', 'the NACK names the version still applied');
    assert.equal(await who(), 'a');
    const dump = (await (await fetch(`http://${proxy.bind}:${proxy.ports.admin}/config_dump`)).json()) as { version: string; lastNack: { version: string; code: string } };
    assert.equal(dump.version, 'v1');
    assert.equal(dump.lastNack.version, 'v2-bad');
    assert.equal(dump.lastNack.code, 'MESHLET_SNAPSHOT_INVALID');
  });

  it('swaps a valid update in atomically and ACKs it', async () => {
    cp.push(snap('v3', B) as never);
    await cp.waitFor((r) => r.ack === 'v3');
    assert.equal(await who(), 'b');
  });
});
