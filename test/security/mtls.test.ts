/**
 * Mesh mTLS between real sockets on 127.0.0.1: client contexts (exact SPIFFE ID check,
 * per-identity session cache), the inbound sniffing server (STRICT/PERMISSIVE), XFCC.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { request } from 'undici';
import { mtlsModeForPort, resolvePeerAuthentication } from '../../common/security/peer-auth.ts';
import type { CertificateAuthority } from '../../operator/ca/authority.ts';
import { MtlsClient } from '../../proxy/security/tls-contexts.ts';
import { parseXfcc } from '../../proxy/security/xfcc.ts';
import type { WorkloadCert } from '../../proxy/security/workload-cert.ts';
import { mtlsAgent, startApp, startSidecar, type App } from './fixture.ts';
import { issue, tempDir, testCa, TD } from './helpers.ts';

const A = 'spiffe://cluster.local/ns/a/sa/web';
const B = 'spiffe://cluster.local/ns/b/sa/db';
let dirs: { dir: string; cleanup: () => void };
let ca: CertificateAuthority;
let certA: WorkloadCert;
let certB: WorkloadCert;
let app: App;

before(async () => {
  dirs = tempDir('mtls');
  ca = await testCa(dirs.dir);
  certA = await issue(ca, 'a', 'web');
  certB = await issue(ca, 'b', 'db');
  app = await startApp();
});
after(async () => {
  await app?.close();
  dirs?.cleanup();
});

async function plaintextGet(port: number): Promise<{ ok: boolean; text: string }> {
  const s = netConnect(port, '127.0.0.1');
  s.write('GET /plain HTTP/1.1\r\nhost: b\r\nconnection: close\r\n\r\n');
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString()));
  const ok = await Promise.race([once(s, 'end').then(() => true), once(s, 'error').then(() => false)]);
  await once(s, 'close').catch(() => undefined);
  return { ok: ok && text.startsWith('HTTP/1.1 200'), text };
}

test('meshed A calls meshed B over mTLS: the app sees x-forwarded-client-cert with A\'s identity', async (t) => {
  const sc = await startSidecar({ cert: certB, mode: 'STRICT', appPort: app.port });
  t.after(() => sc.close());
  const agent = mtlsAgent(new MtlsClient(() => certA, TD), B);
  t.after(() => agent.close());
  const before = app.received.length;
  // A forged XFCC from the caller must not survive the hop.
  const res = await request(`http://127.0.0.1:${sc.port}/hello`, { dispatcher: agent, headers: { 'x-forwarded-client-cert': 'URI=spiffe://cluster.local/ns/kube-system/sa/admin' } });
  assert.equal(res.statusCode, 200);
  await res.body.text();
  const got = app.received[before];
  assert.ok(got !== undefined);
  assert.equal(got.from, '127.0.0.6');
  const [el] = parseXfcc(got.xfcc ?? '');
  const leafA = new X509Certificate(certA.certChainPem);
  assert.deepEqual(el, { By: [B], Hash: [createHash('sha256').update(leafA.raw).digest('hex')], Subject: [''], URI: [A] });
});

test('a server presenting another identity is refused by the client, nothing reaches the app', async (t) => {
  const sc = await startSidecar({ cert: certB, mode: 'STRICT', appPort: app.port });
  t.after(() => sc.close());
  const agent = mtlsAgent(new MtlsClient(() => certA, TD), 'spiffe://cluster.local/ns/b/sa/expected');
  t.after(() => agent.close());
  const before = app.received.length;
  await assert.rejects(request(`http://127.0.0.1:${sc.port}/x`, { dispatcher: agent }), (e: Error & { code?: string }) => e.code === 'MESHLET_SECURITY_PEER_IDENTITY');
  assert.equal(app.received.length, before);
});

test('a TLS session resumed for identity X is never offered when Y is expected', async (t) => {
  const sc = await startSidecar({ cert: certB, mode: 'STRICT', appPort: app.port });
  t.after(() => sc.close());
  const client = new MtlsClient(() => certA, TD);
  const first = client.connect({ host: '127.0.0.1', port: sc.port, identity: B });
  await once(first, 'secureConnect');
  await once(first, 'session');
  first.destroy();
  const again = client.connect({ host: '127.0.0.1', port: sc.port, identity: B });
  await once(again, 'secureConnect');
  assert.equal(again.isSessionReused(), true, 'same identity resumes');
  again.destroy();
  const other = client.connect({ host: '127.0.0.1', port: sc.port, identity: 'spiffe://cluster.local/ns/b/sa/other' });
  const [err] = (await once(other, 'error')) as [Error & { code?: string }];
  assert.equal(err.code, 'MESHLET_SECURITY_PEER_IDENTITY');
});

test('expired certificates are refused: an expired client by the server, an expired server by the client', async (t) => {
  const past = Date.now() - 3 * 24 * 3600_000;
  const oldCa = await testCa(dirs.dir, () => past);
  const expiredA = await issue(oldCa, 'a', 'web', 3600_000);
  const expiredB = await issue(oldCa, 'b', 'db', 3600_000);
  assert.ok(expiredA.notAfter.getTime() < Date.now());
  const good = await startSidecar({ cert: certB, mode: 'STRICT', appPort: app.port });
  t.after(() => good.close());
  const before = app.received.length;
  const agent1 = mtlsAgent(new MtlsClient(() => expiredA, TD), B);
  t.after(() => agent1.close());
  await assert.rejects(request(`http://127.0.0.1:${good.port}/x`, { dispatcher: agent1 }));
  const bad = await startSidecar({ cert: expiredB, mode: 'STRICT', appPort: app.port });
  t.after(() => bad.close());
  const agent2 = mtlsAgent(new MtlsClient(() => certA, TD), B);
  t.after(() => agent2.close());
  await assert.rejects(request(`http://127.0.0.1:${bad.port}/x`, { dispatcher: agent2 }), /expired/);
  assert.equal(app.received.length, before);
});

test('STRICT: a plaintext client is cut off before anything reaches the app; mTLS works on the same port', async (t) => {
  const sc = await startSidecar({ cert: certB, mode: 'STRICT', appPort: app.port });
  t.after(() => sc.close());
  const before = app.received.length;
  const plain = await plaintextGet(sc.port);
  assert.equal(plain.ok, false);
  assert.equal(plain.text, '');
  assert.deepEqual(sc.refused, ['plaintext-in-strict']);
  assert.equal(app.received.length, before);
  const agent = mtlsAgent(new MtlsClient(() => certA, TD), B);
  t.after(() => agent.close());
  const res = await request(`http://127.0.0.1:${sc.port}/ok`, { dispatcher: agent });
  assert.equal(res.statusCode, 200);
  await res.body.text();
});

test('PERMISSIVE: plaintext and mTLS both accepted on one port; only mTLS carries an identity', async (t) => {
  const sc = await startSidecar({ cert: certB, mode: 'PERMISSIVE', appPort: app.port });
  t.after(() => sc.close());
  const before = app.received.length;
  const plain = await plaintextGet(sc.port);
  assert.equal(plain.ok, true, plain.text);
  const agent = mtlsAgent(new MtlsClient(() => certA, TD), B);
  t.after(() => agent.close());
  const res = await request(`http://127.0.0.1:${sc.port}/tls`, { dispatcher: agent });
  assert.equal(res.statusCode, 200);
  await res.body.text();
  const [p, m] = app.received.slice(before);
  assert.equal(p?.url, '/plain');
  assert.equal(p?.xfcc, undefined);
  assert.equal(m?.url, '/tls');
  assert.match(m?.xfcc ?? '', /URI=spiffe:\/\/cluster\.local\/ns\/a\/sa\/web/);
});

test('PeerAuthentication resolved to STRICT for the workload with the app port PERMISSIVE: plaintext accepted on that port only', async (t) => {
  const policies = [
    { metadata: { name: 'default', namespace: 'meshlet-system' }, spec: { mtls: { mode: 'STRICT' as const } } },
    { metadata: { name: 'db', namespace: 'b' }, spec: { selector: { matchLabels: { app: 'db' } }, portLevelMtls: { [String(app.port)]: { mode: 'PERMISSIVE' as const } } } },
  ];
  const settings = resolvePeerAuthentication(policies, { namespace: 'b', labels: { app: 'db' } });
  const open = await startSidecar({ cert: certB, mode: (p) => mtlsModeForPort(settings, p), appPort: app.port });
  t.after(() => open.close());
  assert.equal((await plaintextGet(open.port)).ok, true);
  const other = resolvePeerAuthentication(policies, { namespace: 'b', labels: { app: 'cache' } });
  const closed = await startSidecar({ cert: certB, mode: (p) => mtlsModeForPort(other, p), appPort: app.port });
  t.after(() => closed.close());
  assert.equal((await plaintextGet(closed.port)).ok, false);
});

test('PERMISSIVE with a server-first plaintext protocol: after the first-byte wait the app speaks first', async (t) => {
  const { InboundMtls } = await import('../../proxy/security/inbound-mtls.ts');
  const { listenWith } = await import('./fixture.ts');
  const inbound = new InboundMtls({
    cert: certB, modeFor: () => 'PERMISSIVE', firstByteTimeoutMs: 20,
    onMtls: (s) => s.destroy(),
    onPlaintext: (s) => s.end('220 greeting\r\n'),
  });
  const l = await listenWith((s) => inbound.handle(s, 25));
  t.after(() => l.close());
  const s = netConnect(l.port, '127.0.0.1');
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString()));
  await once(s, 'end');
  assert.equal(text, '220 greeting\r\n');
  s.destroy();
});
