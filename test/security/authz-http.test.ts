/**
 * AuthorizationPolicy through the real authz feature on a real inbound hop (mTLS identity
 * from the peer certificate, source address from the socket).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'undici';
import type { AuthzPolicy, AuthzRule } from '../../common/snapshot.ts';
import { compileAuthz } from '../../proxy/security/authz.ts';
import { authorizeConnection } from '../../proxy/security/authz-feature.ts';
import { InboundMtls } from '../../proxy/security/inbound-mtls.ts';
import { MtlsClient } from '../../proxy/security/tls-contexts.ts';
import type { WorkloadCert } from '../../proxy/security/workload-cert.ts';
import { mtlsAgent, startApp, startSidecar, type App } from './fixture.ts';
import { issue, tempDir, testCa, TD } from './helpers.ts';

const B = 'spiffe://cluster.local/ns/b/sa/db';
let dirs: { dir: string; cleanup: () => void };
let certA: WorkloadCert;
let certC: WorkloadCert;
let certB: WorkloadCert;
let app: App;

before(async () => {
  dirs = tempDir('authz');
  const ca = await testCa(dirs.dir);
  certA = await issue(ca, 'a', 'web');
  certC = await issue(ca, 'c', 'batch');
  certB = await issue(ca, 'b', 'db');
  app = await startApp();
});
after(async () => {
  await app?.close();
  dirs?.cleanup();
});

function pol(action: AuthzPolicy['action'], rules: Partial<AuthzRule>[], name = 'b/policy'): AuthzPolicy {
  return { name, action, rules: rules.map((r) => ({ from: [], to: [], when: [], ...r })), provenance: { kind: 'AuthorizationPolicy', namespace: 'b', name: name.split('/')[1] ?? name } };
}

async function call(port: number, cert: WorkloadCert, method: string, path = '/data'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const agent = mtlsAgent(new MtlsClient(() => cert, TD), B);
  try {
    const res = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent, method: method as 'GET' });
    return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
  } finally {
    await agent.close();
  }
}

test('methods: GET allowed, POST 403 "RBAC: access denied" with flag RBAC, from the same principal', async (t) => {
  const sc = await startSidecar({ cert: certB, mode: 'STRICT', appPort: app.port, policies: [pol('ALLOW', [{ from: [{ principals: ['cluster.local/ns/a/sa/web'] }], to: [{ methods: ['GET'] }] }])] });
  t.after(() => sc.close());
  const before = app.received.length;
  const get = await call(sc.port, certA, 'GET');
  assert.equal(get.status, 200);
  const post = await call(sc.port, certA, 'POST');
  assert.equal(post.status, 403);
  assert.equal(post.body.trim(), 'RBAC: access denied');
  assert.equal(post.headers['x-meshlet-flags'], 'RBAC');
  assert.equal(post.headers['x-meshlet-error'], 'MESHLET_SECURITY_RBAC_DENIED');
  assert.deepEqual(app.received.slice(before).map((r) => r.method), ['GET']);
});

test('principals: the same GET from another identity is denied', async (t) => {
  const sc = await startSidecar({ cert: certB, mode: 'STRICT', appPort: app.port, policies: [pol('ALLOW', [{ from: [{ principals: ['cluster.local/ns/a/sa/web'] }] }])] });
  t.after(() => sc.close());
  assert.equal((await call(sc.port, certA, 'GET')).status, 200);
  assert.equal((await call(sc.port, certC, 'GET')).status, 403);
});

test('DENY on a namespace beats an allow-all; paths with a prefix wildcard', async (t) => {
  const sc = await startSidecar({ cert: certB, mode: 'STRICT', appPort: app.port, policies: [
    pol('ALLOW', [{}], 'b/allow-all'),
    pol('DENY', [{ from: [{ namespaces: ['c'] }] }, { to: [{ paths: ['/admin/*'] }] }], 'b/deny'),
  ] });
  t.after(() => sc.close());
  assert.equal((await call(sc.port, certA, 'GET', '/data')).status, 200);
  assert.equal((await call(sc.port, certA, 'GET', '/admin/users')).status, 403);
  assert.equal((await call(sc.port, certC, 'GET', '/data')).status, 403);
});

test('allow-nothing denies everyone', async (t) => {
  const sc = await startSidecar({ cert: certB, mode: 'STRICT', appPort: app.port, policies: [pol('ALLOW', [])] });
  t.after(() => sc.close());
  assert.equal((await call(sc.port, certA, 'GET')).status, 403);
});

test('TCP: a denied connection is closed before the app sees a byte (ipBlocks on the real source address)', async (t) => {
  const authz = compileAuthz([pol('ALLOW', [{ from: [{ ipBlocks: ['127.0.0.2/32'] }] }])]);
  const received: string[] = [];
  const inbound = new InboundMtls({
    cert: certB, modeFor: () => 'PERMISSIVE',
    onMtls: (s) => {
      if (!authorizeConnection(authz, s, B).allowed) return void s.destroy();
      s.on('data', (d: Buffer) => received.push(d.toString()));
      s.write('ok');
    },
    onPlaintext: (s) => {
      if (!authorizeConnection(authz, s, B).allowed) return void s.destroy();
      s.on('data', (d: Buffer) => received.push(d.toString()));
      s.write('ok');
    },
  });
  const server = createServer((s) => inbound.handle(s, 9000));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const attempt = async (localAddress: string): Promise<string> => {
    const s = new MtlsClient(() => certA, TD).connect({ host: '127.0.0.1', port, identity: B, localAddress });
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      s.end();
    });
    s.on('error', () => undefined);
    await once(s, 'secureConnect');
    s.write(`hello from ${localAddress}`);
    await once(s, 'close');
    return got;
  };
  // From 127.0.0.2 (in the block): served. From 127.0.0.1: closed without a reply.
  assert.equal(await attempt('127.0.0.2'), 'ok');
  assert.equal(await attempt('127.0.0.1'), '');
  assert.deepEqual(received, ['hello from 127.0.0.2']);
});
