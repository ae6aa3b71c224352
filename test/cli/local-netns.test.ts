/**
 * `meshlet local --netns` (root): the demo (addresses moved to 198.18.77.x) with every
 * workload in its own network namespace, iptables capture from `meshlet init-iptables`,
 * proxies as uid 1337 and apps without HTTP_PROXY. A client inside the frontend's
 * namespace calls `http://reviews:9080/` as a plain app would: the capture sends it
 * through both sidecars over mTLS; POST is denied by the AuthorizationPolicy; a client
 * outside the mesh is refused by STRICT capture; SIGINT removes every namespace.
 * Skipped, with the reason, when not root or when ip/iptables/setpriv are missing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsUnavailable } from '../../cli/local/netns.ts';
import { eventually, startLocal, type LocalProcess } from './helpers/local-process.ts';

const skip = netnsUnavailable();
let dir: string;
let local: LocalProcess | undefined;
let frontendNs = '';

/** A plain HTTP client run inside a namespace (as root, so its traffic is captured). */
function curlIn(ns: string, url: string, ...extra: string[]): { status: number; headers: string; body: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', `
    const [url, method, tier] = process.argv.slice(1);
    fetch(url, { method, headers: tier ? { 'user-tier': tier } : {}, signal: AbortSignal.timeout(8000) })
      .then(async (r) => console.log(JSON.stringify({ status: r.status, headers: JSON.stringify(Object.fromEntries(r.headers)), body: await r.text() })))
      .catch((e) => console.log(JSON.stringify({ status: 0, headers: '', body: String(e.cause?.code ?? e.message) })));`, url, ...extra], { encoding: 'utf8', timeout: 15_000 });
  return JSON.parse(r.stdout || '{"status":-1,"headers":"","body":""}') as { status: number; headers: string; body: string };
}

before(async () => {
  if (skip !== undefined) return;
  dir = mkdtempSync(join(tmpdir(), 'meshlet-cli-netns-'));
  cpSync(new URL('../../examples/demo', import.meta.url).pathname, join(dir, 'demo'), { recursive: true });
  const wl = join(dir, 'demo', 'mesh', 'workloads.yaml');
  writeFileSync(wl, readFileSync(wl, 'utf8').replaceAll('127.0.77.', '198.18.77.'));
  local = await startLocal(join(dir, 'demo', 'mesh'), ['--netns', '--seed', '7']);
  frontendNs = /proxy frontend\.default ready on 198\.18\.77\.10 \(network namespace (\S+),/.exec(local.output())?.[1] ?? '';
  assert.notEqual(frontendNs, '', local.output());
  const up = await eventually(async () => curlIn(frontendNs, 'http://frontend:9080/product', 'GET', 'premium').status === 200, 100, 300);
  assert.ok(up, `frontend → reviews v3 → ratings never answered under capture:\n${local.output()}`);
});

after(async () => {
  await local?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('a plain app call is captured and goes sidecar → sidecar over mTLS', { skip }, () => {
  const r = curlIn(frontendNs, 'http://reviews:9080/reviews/1', 'GET');
  assert.equal(r.status, 200, r.body);
  const h = JSON.parse(r.headers) as Record<string, string>;
  assert.match(h['x-demo-client-cert'] ?? '', /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/frontend/);
  assert.equal(h['x-demo-remote-address'], '127.0.0.6');
  const chain = JSON.parse(curlIn(frontendNs, 'http://frontend:9080/product', 'GET', 'premium').body) as { reviewsVersion: string; reviews: { stars?: number } };
  assert.equal(chain.reviewsVersion, 'v3');
  assert.equal(typeof chain.reviews.stars, 'number');
});

test('the AuthorizationPolicy denies POST with 403 RBAC, and STRICT refuses a client outside the mesh', { skip }, async () => {
  const post = curlIn(frontendNs, 'http://reviews:9080/reviews/1', 'POST');
  assert.equal(post.status, 403);
  assert.equal(post.body.trim(), 'RBAC: access denied');
  // From the root namespace (no sidecar): captured into reviews' inbound, plaintext refused.
  const outside = await fetch('http://198.18.77.21:9080/reviews/1', { signal: AbortSignal.timeout(5000) }).then((r) => `answered ${r.status}`, (e: Error & { cause?: { code?: string } }) => `refused ${e.cause?.code ?? e.message}`);
  assert.match(outside, /^refused/);
});

test('SIGINT removes every namespace, the bridge and the hosts files', { skip }, async () => {
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  const tag = /meshlet-(\d+)-0/.exec(frontendNs)?.[1];
  assert.ok(tag !== undefined && ns.includes(frontendNs));
  assert.equal(await local!.stop(), 0, local!.output());
  assert.doesNotMatch(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout, new RegExp(`meshlet-${tag}-`));
  assert.notEqual(spawnSync('ip', ['link', 'show', `mlbr${tag}`]).status, 0, 'bridge deleted');
  assert.equal(existsSync(join('/etc/netns', frontendNs)), false);
});
