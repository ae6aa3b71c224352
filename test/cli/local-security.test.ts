/**
 * `meshlet local` goes sidecar → sidecar: on a copy of the demo (its own 127.0.79.x
 * addresses), a client proxy reaches the destination's sidecar inbound listener with auto
 * mTLS (certs issued by the operator's CA from per-workload token files), and that sidecar
 * enforces the demo's STRICT PeerAuthentication and its AuthorizationPolicy before
 * forwarding to the app from 127.0.0.6.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, eventually, startLocal, viaProxy, type LocalProcess } from './helpers/local-process.ts';

const FRONTEND_PROXY = { host: '127.0.79.10', port: 15001 };
const RATINGS_PROXY = { host: '127.0.79.30', port: 15001 };
const REVIEWS_V1_INBOUND = { host: '127.0.79.21', port: 15006 };
const FRONTEND_ID = 'spiffe://cluster.local/ns/default/sa/frontend';
let dir: string;
let local: LocalProcess | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-cli-local-sec-'));
  cpSync(new URL('../../examples/demo', import.meta.url).pathname, join(dir, 'demo'), { recursive: true });
  const wl = join(dir, 'demo', 'mesh', 'workloads.yaml');
  writeFileSync(wl, readFileSync(wl, 'utf8').replaceAll('127.0.77.', '127.0.79.'));
  // Only reviews v1 in the canary, so every plain request lands on the sidecar asserted below.
  const routing = join(dir, 'demo', 'mesh', 'reviews-routing.yaml');
  writeFileSync(routing, readFileSync(routing, 'utf8').replace('weight: 80', 'weight: 100').replace('weight: 20', 'weight: 0'));
  local = await startLocal(join(dir, 'demo', 'mesh'), ['--seed', '5']);
  const up = await eventually(async () => (await viaProxy(FRONTEND_PROXY, 'http://reviews:9080/reviews/1')).status === 200, 150, 200);
  assert.ok(up, `frontend → reviews never answered:\n${local.output()}`);
  // Apps start after their proxies: wait until the whole premium chain (frontend → v3 → ratings) answers.
  const chain = await eventually(async () => {
    const r = await fetch('http://127.0.79.10:9080/product', { headers: { 'user-tier': 'premium' }, signal: AbortSignal.timeout(5000) });
    return r.status === 200 && typeof ((await r.json()) as { reviews?: { stars?: number } }).reviews?.stars === 'number';
  }, 150, 200);
  assert.ok(chain, `frontend → reviews v3 → ratings never answered:\n${local.output()}`);
});

after(async () => {
  await local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('frontend → reviews goes through reviews\' sidecar over mTLS: the app sees the frontend\'s SPIFFE ID from 127.0.0.6', async () => {
  const a = await viaProxy(FRONTEND_PROXY, 'http://reviews:9080/reviews/1');
  assert.equal(a.status, 200, a.body);
  assert.equal(a.headers['x-demo-version'], 'v1');
  assert.match(String(a.headers['x-demo-client-cert']), new RegExp(`URI=${FRONTEND_ID.replaceAll('/', '\\/')}`));
  assert.equal(a.headers['x-demo-remote-address'], '127.0.0.6');
  // The whole chain, frontend → reviews v3 → ratings, works with every hop STRICT.
  const res = await fetch('http://127.0.79.10:9080/product', { headers: { 'user-tier': 'premium' }, signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { reviewsVersion: string; reviews: { stars?: number } };
  assert.equal(res.status, 200);
  assert.equal(body.reviewsVersion, 'v3');
  assert.equal(typeof body.reviews.stars, 'number', JSON.stringify(body));
});

test('a plain client that bypasses the proxies is refused at reviews\' sidecar inbound (STRICT)', async () => {
  const plain = await new Promise<string>((resolve) => {
    const req = request({ ...REVIEWS_V1_INBOUND, path: '/reviews/1', headers: { host: 'reviews:9080' }, timeout: 5000 }, (res) => {
      res.resume();
      resolve(`answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`refused: ${e.code ?? e.message}`));
    req.end();
  });
  assert.match(plain, /^refused: (ECONNRESET|EPIPE|ECONNREFUSED|ERR_STREAM|socket hang up)/, plain);
  // TLS without a workload certificate is refused too.
  const tls = await new Promise<string>((resolve) => {
    const s = tlsConnect({ ...REVIEWS_V1_INBOUND, rejectUnauthorized: false, servername: 'reviews' }, () => {
      s.write('GET /reviews/1 HTTP/1.1\r\nhost: reviews\r\n\r\n');
    });
    let got = '';
    s.setTimeout(5000, () => s.destroy());
    s.on('data', (c: Buffer) => (got += c.toString()));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`refused: ${e.code ?? e.message}`));
    s.on('close', () => resolve(got === '' ? 'refused: closed' : `answered ${got.split('\r\n')[0]}`));
  });
  assert.match(tls, /^refused/, tls);
});

test('the AuthorizationPolicy allows GET from the frontend and denies POST (and other identities) with 403 RBAC', async () => {
  assert.equal((await viaProxy(FRONTEND_PROXY, 'http://reviews:9080/reviews/1')).status, 200);
  const post = await viaProxy(FRONTEND_PROXY, 'http://reviews:9080/reviews/1', { method: 'POST' });
  assert.equal(post.status, 403);
  assert.equal(post.body.trim(), 'RBAC: access denied');
  assert.equal(post.headers['x-meshlet-flags'], 'RBAC');
  // ratings is a meshed peer with a valid cert, but not the allowed principal.
  const other = await viaProxy(RATINGS_PROXY, 'http://reviews:9080/reviews/1');
  assert.equal(other.status, 403);
  assert.equal(other.body.trim(), 'RBAC: access denied');
});

test('explain against the running operator shows the sidecar endpoint, auto mTLS and the policy', () => {
  const r = spawnSync(process.execPath, [BIN, 'explain', 'frontend.default', 'http://reviews:9080/', '--operator', local!.operatorUrl], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /endpoint 127\.0\.79\.21:15006 \(proxy reviews-v1\.default\)\s+transport: mtls spiffe:\/\/cluster\.local\/ns\/default\/sa\/reviews/);
  assert.match(r.stdout, /server mTLS: STRICT/);
  assert.match(r.stdout, /allowed by default\/reviews-frontend-get/);
});

test('proxy-config secrets shows the live workload certificate: identity, serial, not-after', () => {
  const r = spawnSync(process.execPath, [BIN, 'proxy-config', 'reviews-v1.default', 'secrets', '--operator', local!.operatorUrl], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^default\s+spiffe:\/\/cluster\.local\/ns\/default\/sa\/reviews\s+[0-9a-f]+\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+(23|24)h$/m);
  assert.match(r.stdout, /^ROOTCA\s/m);
  const json = spawnSync(process.execPath, [BIN, 'proxy-config', 'reviews-v1.default', 'secrets', '-o', 'json', '--operator', local!.operatorUrl], { encoding: 'utf8' });
  const data = JSON.parse(json.stdout) as { certificates: { name: string; serial: string }[] };
  assert.equal(data.certificates[0]?.name, 'default');
  assert.ok(!json.stdout.includes('PRIVATE KEY'), 'never key material');
});

test('the operator counts the certificates it issued (one per proxy at least) and serves its service graph', async () => {
  const metrics = await (await fetch(`${local!.operatorUrl}/metrics`)).text();
  const issued = Number(/^citadel_server_success_cert_issuance_count (\d+)/m.exec(metrics)?.[1] ?? 0);
  assert.ok(issued >= 5, `issued ${issued}`);
  assert.equal((await fetch(`${local!.operatorUrl}/ui`)).status, 200);
});

test('the private state dir holds one 0600 token per service account and is removed on stop', async () => {
  const m = /mesh CA and workload tokens in (\S+)/.exec(local!.output());
  assert.ok(m !== null, local!.output());
  const state = m[1]!;
  assert.equal(statSync(state).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(join(state, 'tokens', 'default')).sort(), ['frontend.token', 'ratings.token', 'reviews.token']);
  assert.equal(statSync(join(state, 'tokens', 'default', 'frontend.token')).mode & 0o777, 0o600);
  const code = await local!.stop();
  assert.equal(code, 0, local!.output());
  assert.throws(() => statSync(state), /ENOENT/);
});
