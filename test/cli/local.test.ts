/**
 * `meshlet local` on the demo (a copy, so the test can edit it): real operator, proxies and
 * apps. The 80/20 canary holds within tolerance over a bounded load, the premium header goes
 * to v3, an edit of the YAML shifts traffic, proxy-status/proxy-config/version read the
 * running operator, and SIGINT stops every process (ports closed afterwards).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, eventually, startLocal, viaProxy, type LocalProcess } from './helpers/local-process.ts';

const FRONTEND_PROXY = { host: '127.0.77.10', port: 15001 };
let dir: string;
let local: LocalProcess | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-cli-local-'));
  cpSync(new URL('../../examples/demo', import.meta.url).pathname, join(dir, 'demo'), { recursive: true });
  local = await startLocal(join(dir, 'demo', 'mesh'), ['--seed', '11']);
  const up = await eventually(async () => (await getProduct()).status === 200, 150, 200);
  assert.ok(up, `the demo frontend never answered:\n${local.output()}`);
});

after(async () => {
  await local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** GET the frontend app directly (as the demo's load does); it reports the reviews version. */
async function getProduct(headers: Record<string, string> = {}): Promise<{ status: number; version: string }> {
  const res = await fetch('http://127.0.77.10:9080/product', { headers, signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return { status: res.status, version: res.headers.get('x-demo-reviews-version') ?? 'none' };
}

async function split(n: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await getProduct(headers);
    assert.equal(r.status, 200);
    counts[r.version] = (counts[r.version] ?? 0) + 1;
  }
  return counts;
}

function meshlet(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, MESHLET_OPERATOR: local!.operatorUrl } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('80/20 canary within tolerance, and the premium header goes to v3', async () => {
  const n = 400;
  const c = await split(n);
  assert.deepEqual(Object.keys(c).sort(), ['v1', 'v2'], JSON.stringify(c));
  // 20% of 400: sd 2 points; ±6 points is 3 sd.
  assert.ok(Math.abs(((c.v2 ?? 0) / n) * 100 - 20) <= 6, `v2 share ${c.v2}/${n}`);
  assert.deepEqual(await split(30, { 'user-tier': 'premium' }), { v3: 30 });
});

test('an explicit-proxy request to the frontend\'s proxy follows the header route', async () => {
  const a = await viaProxy(FRONTEND_PROXY, 'http://reviews:9080/reviews/1', { headers: { 'user-tier': 'premium', 'x-request-id': 'req-42' } });
  assert.equal(a.status, 200);
  assert.equal(a.headers['x-demo-version'], 'v3');
});

test('proxy-status, proxy-config and version read the running operator', () => {
  const ps = meshlet('proxy-status', '--operator', local!.operatorUrl);
  assert.equal(ps.code, 0, ps.stderr);
  for (const id of ['frontend.default', 'reviews-v1.default', 'reviews-v2.default', 'reviews-v3.default', 'ratings.default']) assert.match(ps.stdout, new RegExp(`${id.replace('.', '\\.')}\\s.*SYNCED`));
  const routes = meshlet('proxy-config', 'frontend.default', 'routes', '-o', 'json');
  assert.equal(routes.code, 0, routes.stderr);
  const names = (JSON.parse(routes.stdout) as { virtualHosts: { name: string; routes: { name: string }[] }[] }[]).flatMap((t) => t.virtualHosts).filter((v) => v.name.startsWith('reviews.')).flatMap((v) => v.routes.map((r) => r.name));
  assert.deepEqual(names, ['premium', 'canary']);
  const table = meshlet('proxy-config', 'frontend.default', 'clusters');
  assert.match(table.stdout, /outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local\s+v2\s+ROUND_ROBIN\s+AUTO.*\[DestinationRule default\/reviews\]/);
  const admin = meshlet('proxy-config', 'frontend.default', 'listeners', '--admin', 'http://127.0.77.10:15000', '-o', 'yaml');
  assert.equal(admin.code, 0, admin.stderr);
  assert.match(admin.stdout, /name: outbound\|9080/);
  const unknown = meshlet('proxy-config', 'nope.default', 'routes');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /known proxies: frontend\.default, ratings\.default, reviews-v1\.default, reviews-v2\.default, reviews-v3\.default/);
  const v = meshlet('version');
  assert.match(v.stdout, /operator: http:\/\/127\.0\.0\.1:\d+, config [0-9a-f]+, 5 proxies connected/);
});

test('editing the YAML shifts the canary within seconds', async () => {
  const file = join(dir, 'demo', 'mesh', 'reviews-routing.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('weight: 80', 'weight: 0').replace('weight: 20', 'weight: 100'));
  const shifted = await eventually(async () => (await split(20)).v2 === 20, 50, 200);
  assert.ok(shifted, 'all traffic on v2 after the edit');
  const explained = meshlet('explain', 'frontend.default', 'http://reviews:9080/reviews/1', '-o', 'json');
  const e = JSON.parse(explained.stdout) as { destinations: { subset: string; percent: number }[] };
  assert.deepEqual(e.destinations.map((d) => [d.subset, d.percent]), [['v1', 0], ['v2', 100]]);
});

test('a WorkloadEntry added to the directory starts its proxy and app; removing it stops them', async () => {
  const file = join(dir, 'demo', 'mesh', 'ratings-2.yaml');
  writeFileSync(file, `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: ratings-2
  namespace: default
  annotations: {local.meshlet.io/command: "node ../apps/ratings.ts"}
spec: {address: 127.0.77.31, labels: {app: ratings, version: v1}, serviceAccount: ratings}
`);
  const answered = await eventually(async () => (await fetch('http://127.0.77.31:9080/ratings/1', { signal: AbortSignal.timeout(2000) })).status === 200, 150, 200);
  assert.ok(answered, `the new app never answered:\n${local!.output()}`);
  let status = '';
  // Bounded by count: each try spawns the CLI, slow when the machine is busy.
  const synced = await eventually(async () => /ratings-2\.default\s.*SYNCED/.test((status = meshlet('proxy-status', '--operator', local!.operatorUrl).stdout)), 60, 300);
  assert.ok(synced, `the new proxy is connected and synced:\n${status}`);
  assert.match(local!.output(), /starting default\/ratings-2 \(new WorkloadEntry\)/);
  rmSync(file);
  const gone = await eventually(async () => (await refused('127.0.77.31', 9080)) && (await refused('127.0.77.31', 15001)), 100, 200);
  assert.ok(gone, 'app and proxy of the removed entry stopped');
  assert.match(local!.output(), /stopping default\/ratings-2 \(its WorkloadEntry is gone\)/);
});

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

test('SIGINT stops the operator, every proxy and every app', async () => {
  const code = await local!.stop();
  assert.equal(code, 0, local!.output());
  assert.match(local!.output(), /local \| stopped/);
  for (const [h, p] of [['127.0.77.10', 9080], ['127.0.77.10', 15001], ['127.0.77.21', 9080], ['127.0.77.23', 15000], ['127.0.77.30', 15021]] as const) {
    assert.ok(await refused(h, p), `${h}:${p} still accepts connections after stop:\n${local!.output()}`);
  }
});
