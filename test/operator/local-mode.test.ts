/**
 * Local mode end to end: a real `meshlet operator --local <dir>` process, a scripted proxy
 * over HTTPS. Editing a file reaches the proxy; a bad file is logged as file:line and the
 * rest keeps serving; /metrics and `meshlet proxy-status` show what the proxy acked.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startOperatorProcess, type OperatorProcess } from './helpers/operator-process.ts';
import { ScriptedProxy, routesOf } from './helpers/proxy-client.ts';

let dir: string;
let op: OperatorProcess;
const proxies: ScriptedProxy[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-local-'));
  cpSync('test/fixtures/local/basic', join(dir, 'mesh'), { recursive: true });
  op = await startOperatorProcess(['--local', join(dir, 'mesh'), '--hold', '3000', '--insecure-proxy-claims'], join(dir, 'ca.pem'));
});

after(async () => {
  for (const p of proxies) await p.stop();
  await op?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function proxy(id: string): ScriptedProxy {
  const p = new ScriptedProxy({ url: op.pushUrl, caPem: op.caPem, id }).start();
  proxies.push(p);
  return p;
}

const reviewsSplit = (s: Parameters<typeof routesOf>[0]): number[] => routesOf(s).find((r) => r.vhost.startsWith('reviews.') && r.name === 'split')?.weights ?? [];

test('a proxy gets the routes from the directory, then the edit of a file', async () => {
  const p = proxy('productpage-1.default');
  const first = await p.waitFor((s) => reviewsSplit(s).length === 2, 10_000, 'initial 90/10 split');
  assert.deepEqual(reviewsSplit(first), [90, 10]);
  assert.equal(first.proxy.ip, '127.0.10.1', 'identity resolved from the WorkloadEntry');
  const file = join(dir, 'mesh', 'reviews-rules.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('weight: 90', 'weight: 50').replace('weight: 10', 'weight: 50'));
  const second = await p.waitFor((s) => reviewsSplit(s)[0] === 50, 10_000, '50/50 split after the edit');
  assert.notEqual(second.version, first.version);
  assert.deepEqual(reviewsSplit(second), [50, 50]);
});

test('bad YAML and an invalid object are logged as file:line; the rest keeps serving', async () => {
  const p = proxy('reviews-v1.default');
  const before = await p.waitFor((s) => reviewsSplit(s).length === 2, 10_000, 'split');
  writeFileSync(join(dir, 'mesh', 'broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: broken\nspec: [\n');
  const parseLog = await op.waitForLog((l) => l.code === 'MESHLET_OPERATOR_YAML_PARSE', 10_000, 'YAML parse error log');
  assert.match(String(parseLog.msg), /broken\.yaml:\d+: /);
  // An invalid update of the VirtualService: the last accepted version keeps serving.
  const file = join(dir, 'mesh', 'reviews-rules.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('- name: split', '- name: split\n    timeout: whenever'));
  const invalidLog = await op.waitForLog((l) => l.level === 50 && /reviews-rules\.yaml:\d+: VirtualService/.test(String(l.msg)), 10_000, 'invalid object log');
  assert.match(String(invalidLog.code), /^MESHLET_[A-Z_]+$/);
  assert.match(String(invalidLog.msg), /reviews-rules\.yaml:(\d+): VirtualService default\/reviews: spec\.http\[0\]\.timeout: /);
  const line = Number(/reviews-rules\.yaml:(\d+)/.exec(String(invalidLog.msg))?.[1]);
  assert.equal(readFileSync(file, 'utf8').split('\n')[line - 1]?.trim(), 'timeout: whenever', 'line points at the bad field');
  // A new object in a good file still arrives while the bad ones sit there.
  writeFileSync(join(dir, 'mesh', 'ratings.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: ratings, namespace: default}\nspec:\n  ports: [{name: http, port: 9080}]\n');
  const after = await p.waitFor((s) => s.clusters.some((c) => c.service.startsWith('ratings.')), 10_000, 'ratings cluster');
  assert.deepEqual(reviewsSplit(after), reviewsSplit(before), 'the invalid edit did not change the route');
  const metrics = await (await fetch(`${op.monitorUrl}/metrics`)).text();
  assert.match(metrics, /meshlet_operator_invalid_objects\{kind="VirtualService"\} 1/);
});

test('proxy-status and metrics show synced proxies and pushes', async () => {
  const p = proxies[0] as ScriptedProxy;
  const want = p.current?.version;
  // Wait until the operator has recorded the ACK of the proxy's current version.
  const deadline = Date.now() + 10_000;
  let rows: { id: string; status: string; acked?: string }[] = [];
  while (Date.now() < deadline) {
    rows = ((await (await fetch(`${op.monitorUrl}/debug/proxies`)).json()) as { proxies: typeof rows }).proxies;
    if (rows.find((r) => r.id === 'productpage-1.default')?.acked === want) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(rows.find((r) => r.id === 'productpage-1.default')?.status, 'SYNCED');
  const cli = spawnSync(process.execPath, ['bin/meshlet', 'proxy-status', '--operator', op.monitorUrl], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /^PROXY\s+WORKLOAD\s+ACKED\s+STATUS/m);
  assert.match(cli.stdout, new RegExp(`productpage-1\\.default\\s+productpage\\.default\\s+${want}\\s+SYNCED`));
  const metrics = await (await fetch(`${op.monitorUrl}/metrics`)).text();
  assert.match(metrics, /pilot_xds_pushes\{type="snapshot"\} [1-9]/);
  assert.match(metrics, /pilot_xds 2/);
  assert.match(metrics, /pilot_proxy_convergence_time_count [1-9]/);
  assert.match(metrics, /meshlet_operator_push_all_acked_seconds_count [1-9]/);
  const help = spawnSync(process.execPath, ['bin/meshlet', 'operator', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--local <dir>/);
});
