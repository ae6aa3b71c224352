// init-iptables together with the real `meshlet proxy` (run as uid 1337, as injected) in a
// network namespace: the app's traffic goes through the proxy to where it was headed, the
// proxy's own upstream connection is not captured again, inbound reaches the app from 127.0.0.6.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsPair, PEER_IP, POD_IP, netnsSkipReason } from './helpers/netns.ts';

const skip = netnsSkipReason();
const BASIC = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'snapshots', 'basic.json');

describe('captured traffic through the real meshlet proxy', { skip: skip ?? false }, () => {
  const net = new NetnsPair();
  let dir = '';
  let proxyOutput = '';

  before(async () => {
    net.setup();
    // No listeners: every destination is unknown to the proxy and passes through (ALLOW_ANY).
    const snap = JSON.parse(readFileSync(BASIC, 'utf8')) as Record<string, unknown>;
    for (const k of ['listeners', 'routes', 'clusters', 'endpoints']) snap[k] = [];
    dir = mkdtempSync(join(tmpdir(), 'meshlet-capture-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(snap), { mode: 0o644 });
    const r = net.meshlet(['init-iptables']);
    assert.equal(r.code, 0, r.stderr);
    await net.listen(net.peer, 8080, 'peer');
    await net.listen(net.pod, 8080, 'app');
    const proxy = net.spawnAsProxy(['proxy', '--config-file', join(dir, 'snapshot.json'), '--log-level', 'warn']);
    proxy.stdout!.on('data', (d: Buffer) => { proxyOutput += d.toString(); });
    proxy.stderr!.on('data', (d: Buffer) => { proxyOutput += d.toString(); });
    for (let i = 0; i < 150 && net.httpStatus(net.pod, 'http://127.0.0.1:15021/healthz/ready') !== 200; i++) {
      if (proxy.exitCode !== null) throw new Error(`meshlet proxy exited ${proxy.exitCode}: ${proxyOutput}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(net.httpStatus(net.pod, 'http://127.0.0.1:15021/healthz/ready'), 200, proxyOutput);
  });

  after(() => {
    net.destroy();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('the app reaches the peer through the proxy (the peer sees the pod address)', () => {
    const r = net.connect(net.pod, PEER_IP, 8080);
    assert.equal(r.label, 'peer', `${JSON.stringify(r)}\n${proxyOutput}`);
    assert.equal(r.remote?.split(':')[0], POD_IP);
    // It went through the capture chain: the nat counters of the redirect rule moved.
    assert.match(net.exec(net.pod, ['iptables', '-t', 'nat', '-L', 'MESHLET_REDIRECT', '-v', '-n', '-x']), /^\s*[1-9]\d*\s+\d+\s+REDIRECT/m);
  });

  test('inbound to the pod reaches the app from 127.0.0.6 via the proxy', () => {
    const r = net.connect(net.peer, POD_IP, 8080);
    assert.equal(r.label, 'app', `${JSON.stringify(r)}\n${proxyOutput}`);
    assert.equal(r.remote?.split(':')[0], '127.0.0.6');
  });

  test('the proxy health port answers from outside the pod (not captured)', () => {
    assert.equal(net.httpStatus(net.peer, `http://${POD_IP}:15021/healthz/ready`), 200);
  });
});
