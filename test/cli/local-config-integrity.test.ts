/**
 * `meshlet local` with real proxies and apps (a copy of the demo on 127.0.84.x): a file of
 * security objects that stops parsing — one broken document, or a rewrite caught half way —
 * keeps being enforced as it last parsed (DENY still denies, ALLOW still refuses POST,
 * STRICT still refuses plaintext), and the operator names the objects kept. A broken
 * security document that never parsed fails closed. A deleted file removes its objects.
 *
 * No waiting on time: after each edit a marker Service is added and the test waits until
 * the enforcing sidecar (reviews-v1) holds it, so it holds every edit made before it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startLocal, viaProxy, type LocalProcess } from './helpers/local-process.ts';

const FRONTEND_PROXY = { host: '127.0.84.10', port: 15001 };
const REVIEWS_V1 = '127.0.84.21';
const DENY = `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-secret, namespace: default}
spec:
  selector:
    matchLabels: {app: reviews}
  action: DENY
  rules:
  - to:
    - operation:
        paths: [/reviews/secret]
`;
let dir: string;
let mesh: string;
let good: string;
let local: LocalProcess | undefined;
let markers = 0;

const get = (path: string, method = 'GET') => viaProxy(FRONTEND_PROXY, `http://reviews:9080${path}`, { method });

/** A plaintext request straight to reviews-v1's inbound listener: refused under STRICT. */
function plaintext(): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: REVIEWS_V1, port: 15006, path: '/reviews/1', headers: { host: 'reviews:9080' }, timeout: 5000 }, (res) => {
      res.resume();
      resolve(`answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`refused: ${e.code ?? e.message}`));
    req.end();
  });
}

/** Adds a Service and waits until reviews-v1's sidecar applied a config that has it (and so every earlier edit). */
async function settled(): Promise<void> {
  const name = `marker-${++markers}`;
  writeFileSync(join(mesh, `${name}.yaml`), `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: default}\nspec:\n  ports: [{name: http, port: 9080}]\n`);
  const ok = await eventually(async () => (await (await fetch(`http://${REVIEWS_V1}:15000/config_dump`, { signal: AbortSignal.timeout(5000) })).text()).includes(`${name}.default.svc.cluster.local`), 150, 100);
  assert.ok(ok, `reviews-v1 never got ${name}:\n${local?.output().slice(-3000)}`);
}

/** Every security object of security.yaml is enforced: DENY path, ALLOW only GET, STRICT. */
async function enforced(what: string): Promise<void> {
  assert.equal((await get('/reviews/secret')).status, 403, `${what}: the DENY policy denies /reviews/secret`);
  const post = await get('/reviews/1', 'POST');
  assert.equal(post.status, 403, `${what}: the ALLOW policy refuses POST`);
  assert.equal(post.body.trim(), 'RBAC: access denied');
  assert.match(await plaintext(), /^refused/, `${what}: STRICT refuses plaintext`);
  assert.equal((await get('/reviews/1')).status, 200, `${what}: GET from the frontend is allowed`);
}

const logged = (re: RegExp): Promise<boolean> => eventually(async () => re.test(local?.output() ?? ''), 100, 100);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-cli-integrity-'));
  cpSync(new URL('../../examples/demo', import.meta.url).pathname, join(dir, 'demo'), { recursive: true });
  mesh = join(dir, 'demo', 'mesh');
  const wl = join(mesh, 'workloads.yaml');
  writeFileSync(wl, readFileSync(wl, 'utf8').replaceAll('127.0.77.', '127.0.84.'));
  // Only reviews v1 in the canary, so every request lands on the sidecar whose config is checked.
  const routing = join(mesh, 'reviews-routing.yaml');
  writeFileSync(routing, readFileSync(routing, 'utf8').replace('weight: 80', 'weight: 100').replace('weight: 20', 'weight: 0'));
  good = readFileSync(join(mesh, 'security.yaml'), 'utf8') + DENY;
  writeFileSync(join(mesh, 'security.yaml'), good);
  local = await startLocal(mesh, ['--seed', '5']);
  const up = await eventually(async () => (await get('/reviews/1')).status === 200, 150, 200);
  assert.ok(up, `frontend → reviews never answered:\n${local.output()}`);
  await settled();
  await enforced('at start');
});

after(async () => {
  await local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('one broken document: the whole file keeps its last good objects, and a log line names them', async () => {
  // The DENY document breaks (an unclosed flow sequence); the ALLOW and STRICT documents are fine.
  writeFileSync(join(mesh, 'security.yaml'), good.replace('paths: [/reviews/secret]', 'paths: [/reviews/secret'));
  await settled();
  await enforced('DENY document broken');
  assert.ok(await logged(/security\.yaml does not parse .*keeps its last good objects until it does: PeerAuthentication\/default\/default, AuthorizationPolicy\/default\/reviews-frontend-get, AuthorizationPolicy\/default\/deny-secret/), local?.output().slice(-3000));
  // The ALLOW document broken instead (a key without its value's closing brace).
  writeFileSync(join(mesh, 'security.yaml'), good.replace('matchLabels: {app: reviews}\n  action: ALLOW', 'matchLabels: {app: reviews\n  action: ALLOW'));
  await settled();
  await enforced('ALLOW document broken');
  // The PeerAuthentication document broken.
  writeFileSync(join(mesh, 'security.yaml'), good.replace('mtls: {mode: STRICT}', 'mtls: {mode: STRICT'));
  await settled();
  await enforced('PeerAuthentication document broken');
  writeFileSync(join(mesh, 'security.yaml'), good);
  await settled();
  await enforced('fixed');
});

test('a file rewritten in two writes: between them the old objects keep being enforced', async () => {
  const file = join(mesh, 'security.yaml');
  const cut = good.indexOf('{name: reviews-frontend-get') + 10; // inside a flow mapping: does not parse
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, good.slice(0, cut));
    await settled();
    await enforced('half written');
    writeSync(fd, good.slice(cut));
  } finally {
    closeSync(fd);
  }
  await settled();
  await enforced('fully written');
});

test('a broken security document with no good version fails closed; deleting its file removes it', async () => {
  const file = join(mesh, 'late-policy.yaml');
  writeFileSync(file, 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: late-allow\n  namespace: default\nspec:\n  action: ALLOW\n  rules: [{from: [{source: {principals: [x]}}]\n');
  await settled();
  const denied = await get('/reviews/1');
  assert.equal(denied.status, 403, 'the unreadable policy stands as deny-all for its namespace');
  assert.equal(denied.body.trim(), 'RBAC: access denied');
  assert.ok(await logged(/AuthorizationPolicy default\/late-allow \(.*late-policy\.yaml:\d+\) has no valid version .*fail closed/), local?.output().slice(-3000));
  unlinkSync(file);
  await settled();
  await enforced('after the file was deleted');
});
