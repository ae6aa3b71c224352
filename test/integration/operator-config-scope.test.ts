/**
 * Config is served only for the caller's own workload. Against a real `meshlet operator
 * --local`: a proven productpage token asking for a made-up pod with another workload's
 * labels gets 403, not that workload's inbound listener and policies; its own proxy id gets
 * its config; `meshlet proxy-config` over loopback still works. The monitor port's config
 * views answer only loopback clients (what `kubectl port-forward` delivers): checked on the
 * real debug app with a non-loopback peer address.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../common/log.ts';
import { OperatorCore } from '../../operator/core.ts';
import { buildDebugApp } from '../../operator/debug/server.ts';
import { startOperatorProcess, type OperatorProcess } from '../operator/helpers/operator-process.ts';
import { call } from './operator-helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
const PP_TOKEN = 'token-of-productpage-scope-0123';

let dir = '';
let op: OperatorProcess | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-op-scope-'));
  const mesh = join(dir, 'mesh');
  cpSync('test/fixtures/local/basic', mesh, { recursive: true });
  mkdirSync(join(mesh, '.meshlet', 'tokens', 'default'), { recursive: true });
  writeFileSync(join(mesh, '.meshlet', 'tokens', 'default', 'productpage.token'), PP_TOKEN);
  op = await startOperatorProcess(['--local', mesh, '--hold', '500', '--log-level', 'info'], join(dir, 'root.pem'));
});

after(async () => {
  await op?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test("a made-up pod with another workload's labels gets 403, not that workload's config", async () => {
  const url = (proxy: string, extra = ''): string => `${op!.pushUrl}/v1/config?proxy=${proxy}${extra}`;
  const forged = await call(url('made-up-1.default', '&labels=app=reviews,version=v1'), op!.caPem, { token: PP_TOKEN });
  assert.equal(forged.status, 403, `made-up pod answered ${forged.status}: ${forged.text.slice(0, 200)}`);
  assert.equal(forged.headers['x-meshlet-error'], 'MESHLET_SECURITY_FORBIDDEN');
  assert.doesNotMatch(forged.text, /inbound\|/, 'no inbound listener disclosed');
  const other = await call(url('reviews-v1.default'), op!.caPem, { token: PP_TOKEN });
  assert.equal(other.status, 403, 'a known workload of another identity');
  const own = await call(url('productpage-1.default', '&labels=app=reviews'), op!.caPem, { token: PP_TOKEN });
  assert.equal(own.status, 200, own.text);
  const snap = JSON.parse(own.text) as { proxy: { labels: Record<string, string>; spiffeId: string } };
  assert.equal(snap.proxy.spiffeId, 'spiffe://cluster.local/ns/default/sa/productpage');
  assert.deepEqual(snap.proxy.labels, { app: 'productpage' }, 'stated labels do not override the known workload');
});

test('meshlet proxy-config and proxy-status still work over loopback', async () => {
  // The proxy connects first (proxy-config shows connected proxies).
  assert.equal((await call(`${op!.pushUrl}/v1/config?proxy=productpage-1.default`, op!.caPem, { token: PP_TOKEN })).status, 200);
  const cfg = spawnSync(process.execPath, [BIN, 'proxy-config', 'productpage-1.default', 'listeners', '--operator', op!.monitorUrl, '-o', 'json'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(cfg.status, 0, cfg.stderr);
  assert.ok(Array.isArray(JSON.parse(cfg.stdout)));
  const st = spawnSync(process.execPath, [BIN, 'proxy-status', '--operator', op!.monitorUrl], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(st.status, 0, st.stderr);
});

test('the monitor port shows config only to loopback clients', async (t) => {
  const core = new OperatorCore({ log: createLogger({ component: 'test', level: 'silent' }), holdMs: 200 });
  core.store.upsert({ object: { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'reviews-1', namespace: 'default' }, spec: { address: '127.0.0.5', serviceAccount: 'reviews', labels: { app: 'reviews' } } } });
  core.flush();
  const app = buildDebugApp(core);
  t.after(async () => {
    core.close();
    await app.close();
  });
  for (const path of ['/debug/config_dump?proxy=reviews-1.default', '/debug/world']) {
    const remote = await app.inject({ method: 'GET', url: path, remoteAddress: '10.244.1.7' });
    assert.equal(remote.statusCode, 403, `${path} from a pod address answered ${remote.statusCode}`);
    assert.equal(remote.headers['x-meshlet-error'], 'MESHLET_OPERATOR_DEBUG_LOOPBACK_ONLY');
    for (const local of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const r = await app.inject({ method: 'GET', url: path, remoteAddress: local });
      assert.equal(r.statusCode, 200, `${path} from ${local}`);
    }
  }
  // Metrics and the sync table (proxy ids and versions, no config) stay open to scrapers.
  assert.equal((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.244.1.7' })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/debug/proxies', remoteAddress: '10.244.1.7' })).statusCode, 200);
});
