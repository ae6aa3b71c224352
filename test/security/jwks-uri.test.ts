/**
 * jwksUri end to end, in `meshlet local` (operator + a real proxy + an app): the operator,
 * not the proxy, fetches the key set from a JWKS server on loopback, pushes it in the
 * snapshot, refreshes it (MESHLET_JWKS_REFRESH=300ms here) and follows a key rotation done
 * during the test: a token of the new key starts to pass and the retired key's token gets
 * 401. With the JWKS server gone the last good keys are kept. `meshlet explain` shows the
 * JWT verdict.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { BIN, eventually, startLocal, type LocalProcess } from '../cli/helpers/local-process.ts';
import { jwksOf, sign, testKey, type TestKey } from './jwt-helpers.ts';

const BLOCK = 84;
const ISS = 'https://issuer.jwks.test';
const API = allocAddress(BLOCK);
const JWKS_HOST = allocAddress(BLOCK);
let dir = '';
let local: LocalProcess | undefined;
let jwks: Server | undefined;
let served: { keys: Record<string, unknown>[] } | 'down' = { keys: [] };
let fetches = 0;
let keyA: TestKey;
let keyB: TestKey;

const APP = `import { createServer } from 'node:http';
createServer((req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ sub: req.headers['x-jwt-sub'] ?? null, auth: req.headers.authorization ?? null })); })
  .listen(Number(process.env.PORT), process.env.BIND_ADDRESS);
`;

before(async () => {
  keyA = await testKey('key-a', 'RS256');
  keyB = await testKey('key-b', 'ES256');
  served = jwksOf(keyA);
  jwks = createServer((req, res) => {
    fetches += 1;
    if (served === 'down' || req.url !== '/keys.json') {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
  });
  await new Promise<void>((r) => jwks!.listen(0, JWKS_HOST, r));
  const uri = `http://${JWKS_HOST}:${(jwks.address() as AddressInfo).port}/keys.json`;
  dir = mkdtempSync(join(tmpdir(), 'meshlet-jwks-'));
  writeFileSync(join(dir, 'app.mjs'), APP);
  writeFileSync(join(dir, 'mesh.yaml'), `apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec: {selector: {app: api}, ports: [{name: http, port: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: api-1
  namespace: default
  annotations: {local.meshlet.io/command: "node app.mjs"}
spec: {address: ${API}, labels: {app: api}, serviceAccount: api}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: api-jwt, namespace: default}
spec:
  selector: {matchLabels: {app: api}}
  jwtRules:
  - issuer: ${ISS}
    jwksUri: ${uri}
    audiences: [api]
    outputClaimToHeaders: [{header: x-jwt-sub, claim: sub}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api-users, namespace: default}
spec:
  selector: {matchLabels: {app: api}}
  rules:
  - from: [{source: {requestPrincipals: ["${ISS}/*"]}}]
`);
  process.env.MESHLET_JWKS_REFRESH = '300ms';
  local = await startLocal(dir, ['--seed', '1']);
  delete process.env.MESHLET_JWKS_REFRESH;
});

after(async () => {
  await local?.stop();
  await new Promise<void>((r) => (jwks === undefined ? r() : jwks.close(() => r())));
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function call(token?: string): Promise<{ status: number; body: string; error: string | undefined }> {
  const r = await request(`http://${API}:15006/`, { headers: { host: 'api:8080', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }, headersTimeout: 5000, bodyTimeout: 5000 });
  return { status: r.statusCode, body: await r.body.text(), error: r.headers['x-meshlet-error'] as string | undefined };
}

const tokenOf = (k: TestKey, sub: string) => sign(k, { iss: ISS, aud: 'api', sub });

test('the operator fetches the jwksUri keys: a token of key A passes, none gets 403, a forged one 401', async () => {
  const a = await tokenOf(keyA, 'alice');
  const ok = await eventually(async () => (await call(a)).status === 200, 150, 200);
  assert.ok(ok, `a valid token never passed:\n${local!.output()}`);
  assert.deepEqual(JSON.parse((await call(a)).body), { sub: 'alice', auth: null });
  assert.equal((await call()).status, 403, 'no token: unauthenticated, and the policy needs a request principal');
  const b = await call(await tokenOf(keyB, 'bob'));
  assert.equal(b.status, 401, 'key B is not published yet');
  assert.equal(b.error, 'MESHLET_SECURITY_JWT_NO_KEY_MATCH');
});

test('key rotation during the test: B is published, A retired; the proxies follow within a refresh', async () => {
  const a = await tokenOf(keyA, 'alice');
  const b = await tokenOf(keyB, 'bob');
  served = jwksOf(keyB);
  const rotated = await eventually(async () => (await call(b)).status === 200, 150, 200);
  assert.ok(rotated, `key B never accepted:\n${local!.output()}`);
  const old = await call(a);
  assert.equal(old.status, 401, 'the retired key no longer verifies');
  assert.equal(old.error, 'MESHLET_SECURITY_JWT_NO_KEY_MATCH');
});

test('the JWKS server going away keeps the last good keys (refreshes keep failing)', async () => {
  served = 'down';
  const before = fetches;
  const tried = await eventually(async () => fetches >= before + 3, 100, 200);
  assert.ok(tried, 'the operator kept refreshing');
  assert.equal((await call(await tokenOf(keyB, 'bob'))).status, 200);
  assert.match(local!.output(), /MESHLET_OPERATOR_JWKS_FETCH|cannot fetch JWKS/);
  served = jwksOf(keyB);
});

test('meshlet explain shows the JWT verdict for a request with a token, and without', async () => {
  const b = await tokenOf(keyB, 'bob');
  const withToken = spawnSync(process.execPath, [BIN, 'explain', 'api-1.default', 'http://api:8080/', '-H', `authorization:Bearer ${b}`, '--operator', local!.operatorUrl], { encoding: 'utf8' });
  assert.equal(withToken.status, 0, withToken.stderr + withToken.stdout);
  assert.match(withToken.stdout, /JWT: verified, request principal https:\/\/issuer\.jwks\.test\/bob/);
  assert.match(withToken.stdout, /allowed by default\/api-users/);
  const none = spawnSync(process.execPath, [BIN, 'explain', 'api-1.default', 'http://api:8080/', '--operator', local!.operatorUrl], { encoding: 'utf8' });
  assert.match(none.stdout, /JWT: no token/);
  assert.match(none.stdout, /denied/);
});
