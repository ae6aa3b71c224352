import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { authorizationPolicyFindings } from '../../operator/store/authz-findings.ts';
import { parseSpiffeUri, principalOf, spiffeUri, uriSans } from '../../common/spiffe.ts';
import { FileTokenVerifier, subjectFromUsername } from '../../operator/ca/token-verifier.ts';
import { assertClaimMatchesPod } from '../../operator/ca/authenticate.ts';
import { upstreamTransport } from '../../proxy/security/auto-mtls.ts';
import { classifyFirstByte } from '../../proxy/security/inbound-mtls.ts';
import { describeSecrets, registerProxyCertExpiryGauge } from '../../proxy/security/secrets.ts';
import { checkPeerIdentity } from '../../proxy/security/tls-contexts.ts';
import { WorkloadCertManager, type Scheduler } from '../../proxy/security/workload-cert.ts';
import { buildXfcc, parseXfcc } from '../../proxy/security/xfcc.ts';
import { issue, tempDir, testCa } from './helpers.ts';

test('SPIFFE helpers: build, parse strictly, principal form, node SAN strings', () => {
  assert.equal(spiffeUri({ trustDomain: 'cluster.local', namespace: 'a', serviceAccount: 'web' }), 'spiffe://cluster.local/ns/a/sa/web');
  assert.throws(() => spiffeUri({ trustDomain: 'cluster.local', namespace: 'a/sa/x', serviceAccount: 'web' }));
  assert.deepEqual(parseSpiffeUri('spiffe://cluster.local/ns/a/sa/web'), { trustDomain: 'cluster.local', namespace: 'a', serviceAccount: 'web' });
  assert.equal(parseSpiffeUri('spiffe://cluster.local/ns/a/sa/web/extra'), undefined);
  assert.equal(parseSpiffeUri('https://cluster.local/ns/a/sa/web'), undefined);
  assert.equal(principalOf('spiffe://cluster.local/ns/a/sa/web'), 'cluster.local/ns/a/sa/web');
  assert.deepEqual(uriSans('DNS:x.example, URI:spiffe://cluster.local/ns/a/sa/web'), ['spiffe://cluster.local/ns/a/sa/web']);
  assert.deepEqual(uriSans(undefined), []);
});

test('exact peer identity check: other SA, other trust domain, no SAN', () => {
  const cert = { subjectaltname: 'URI:spiffe://cluster.local/ns/b/sa/db' };
  assert.equal(checkPeerIdentity(cert, 'spiffe://cluster.local/ns/b/sa/db', 'cluster.local'), undefined);
  assert.ok(checkPeerIdentity(cert, 'spiffe://cluster.local/ns/b/sa/dbx', 'cluster.local'));
  assert.ok(checkPeerIdentity({ subjectaltname: 'DNS:db.b.svc' }, 'spiffe://cluster.local/ns/b/sa/db', 'cluster.local'));
  assert.equal(checkPeerIdentity(cert, undefined, 'cluster.local'), undefined);
  assert.ok(checkPeerIdentity(cert, undefined, 'other.domain'));
});

test('ClientHello sniffing by mode', () => {
  assert.equal(classifyFirstByte(0x16, 'STRICT'), 'mtls');
  assert.equal(classifyFirstByte(0x47, 'STRICT'), 'refuse');
  assert.equal(classifyFirstByte(0x47, 'PERMISSIVE'), 'plaintext');
  assert.equal(classifyFirstByte(0x16, 'PERMISSIVE'), 'mtls');
  assert.equal(classifyFirstByte(0x16, 'DISABLE'), 'plaintext');
});

test('auto mTLS: mTLS to endpoints with an identity, plaintext to others; ISTIO_MUTUAL and DISABLE', () => {
  const id = 'spiffe://cluster.local/ns/b/sa/db';
  assert.deepEqual(upstreamTransport({ mode: 'AUTO' }, { identity: id }), { kind: 'mtls', identity: id });
  assert.deepEqual(upstreamTransport({ mode: 'AUTO' }, {}), { kind: 'plaintext' });
  assert.deepEqual(upstreamTransport({ mode: 'ISTIO_MUTUAL' }, {}), { kind: 'mtls', identity: undefined });
  assert.deepEqual(upstreamTransport({ mode: 'DISABLE' }, { identity: id }), { kind: 'plaintext' });
  assert.deepEqual(upstreamTransport({ mode: 'SIMPLE', sni: 'x.example' }, {}), { kind: 'tls-origination', mode: 'SIMPLE', sni: 'x.example' });
});

test('XFCC: Envoy format round trip', () => {
  const raw = Buffer.from('not really DER');
  const v = buildXfcc('spiffe://cluster.local/ns/b/sa/db', { raw, subjectaltname: 'URI:spiffe://cluster.local/ns/a/sa/web', subject: undefined as never });
  assert.match(v, /^By=spiffe:\/\/cluster\.local\/ns\/b\/sa\/db;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/a\/sa\/web$/);
  assert.deepEqual(parseXfcc(v)[0]?.URI, ['spiffe://cluster.local/ns/a/sa/web']);
});

test('token helpers: username → subject; file tokens in local mode; config access limited to own identity', async (t) => {
  assert.deepEqual(subjectFromUsername('system:serviceaccount:a:web'), { namespace: 'a', serviceAccount: 'web' });
  assert.equal(subjectFromUsername('admin'), undefined);
  const { dir, cleanup } = tempDir('tok');
  t.after(cleanup);
  mkdirSync(join(dir, 'a'));
  writeFileSync(join(dir, 'a', 'web.token'), 'secret-1\n');
  const v = new FileTokenVerifier(dir);
  assert.deepEqual(await v.verify('secret-1'), { namespace: 'a', serviceAccount: 'web' });
  assert.equal(await v.verify('secret-2'), undefined);
  assert.throws(() => assertClaimMatchesPod({ name: 'p', namespace: 'a', serviceAccount: 'web' }, 'admin'), /MESHLET_SECURITY_FORBIDDEN|runs as admin/);
});

test('secrets summary and proxy expiry gauge: identity, serial, notAfter, never the key', async (t) => {
  const { dir, cleanup } = tempDir('sec');
  t.after(cleanup);
  const cert = await issue(await testCa(dir), 'a', 'web', 3600_000);
  const now = cert.notAfter.getTime() - 1800_000;
  const s = describeSecrets(cert, now);
  assert.deepEqual(s.map((x) => x.name), ['default', 'ROOTCA']);
  assert.equal(s[0]?.identity, 'spiffe://cluster.local/ns/a/sa/web');
  assert.equal(s[0]?.serial, new X509Certificate(cert.certChainPem).serialNumber.toLowerCase());
  assert.equal(s[0]?.notAfter, cert.notAfter.toISOString());
  assert.equal(s[0]?.secondsUntilExpiry, 1800);
  assert.ok(!JSON.stringify(s).includes('PRIVATE KEY'));
  const reg = new Registry();
  registerProxyCertExpiryGauge(reg, () => cert, () => now);
  assert.match(await reg.metrics(), /meshlet_proxy_cert_expiry_seconds\{name="default"\} 1800/);
});

test('cert manager: a failed renewal keeps the current cert and retries with doubling backoff', async () => {
  const delays: number[] = [];
  const pending: (() => void)[] = [];
  const schedule: Scheduler = (fn, d) => {
    delays.push(d);
    pending.push(fn);
    return () => undefined;
  };
  let calls = 0;
  const mgr = new WorkloadCertManager({ request: async () => { calls += 1; throw new Error('operator down'); }, schedule, retryBaseMs: 100, now: () => 0 });
  await assert.rejects(mgr.rotateNow(), /operator down/);
  await assert.rejects(mgr.rotateNow(), /operator down/);
  await assert.rejects(mgr.rotateNow(), /operator down/);
  assert.deepEqual(delays, [100, 200, 400]);
  assert.equal(calls, 3);
  assert.equal(mgr.current(), undefined);
  mgr.stop();
});

test('AuthorizationPolicy findings: CUSTOM is an error, unknown keys warnings; JWT attributes are enforced now', () => {
  const f = authorizationPolicyFindings({ action: 'CUSTOM', rules: [{ when: [{ key: 'request.auth.claims[iss]' }, { key: 'source.ip' }, { key: 'request.headers[x]' }, { key: 'experimental.foo' }, { key: 'request.auth.claims[a][b]' }, { key: 'request.auth.audiences' }] }] });
  assert.deepEqual(f.map((x) => [x.level, x.path]), [
    ['Error', 'spec.action'],
    ['Warning', 'spec.rules[0].when[3].key'],
  ]);
  assert.deepEqual(authorizationPolicyFindings({ action: 'ALLOW', rules: [{ when: [{ key: 'destination.port' }] }] }), []);
});

test('operator serving cert: SPIFFE ID plus host names, verifiable by host name with the mesh root', async (t) => {
  const { dir, cleanup } = tempDir('opcert');
  t.after(cleanup);
  const ca = await testCa(dir);
  const { issueOperatorServingCert } = await import('../../operator/ca/operator-cert.ts');
  const c = await issueOperatorServingCert(ca, { hosts: ['127.0.0.1', 'meshlet.meshlet-system.svc'] });
  const leaf = new X509Certificate(c.certChainPem);
  assert.equal(c.identity, 'spiffe://cluster.local/ns/meshlet-system/sa/meshlet-operator');
  assert.match(leaf.subjectAltName ?? '', /URI:spiffe:\/\/cluster\.local\/ns\/meshlet-system\/sa\/meshlet-operator/);
  assert.equal(leaf.checkHost('meshlet.meshlet-system.svc'), 'meshlet.meshlet-system.svc');
  assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
});

test('the CA never serializes its key (safe for /debug and logs)', async (t) => {
  const { dir, cleanup } = tempDir('json');
  t.after(cleanup);
  const ca = await testCa(dir);
  const text = JSON.stringify({ ca });
  assert.doesNotMatch(text, /PRIVATE KEY/);
  assert.match(text, /"origin":"generated"/);
});

test('authz metrics: denials by deciding policy, audits by policy', async () => {
  const { registerAuthzMetrics } = await import('../../proxy/security/authz-metrics.ts');
  const reg = new Registry();
  const on = registerAuthzMetrics(reg);
  on({ allowed: false, reason: 'denied', policy: 'b/deny', provenance: { kind: 'AuthorizationPolicy', namespace: 'b', name: 'deny' }, audited: ['b/audit'] });
  on({ allowed: false, reason: 'no-allow-match', audited: [] });
  on({ allowed: true, reason: 'allowed', audited: [] });
  const text = await reg.metrics();
  assert.match(text, /meshlet_rbac_denied_total\{policy_namespace="b",policy_name="deny",reason="denied"\} 1/);
  assert.match(text, /meshlet_rbac_denied_total\{policy_namespace="",policy_name="",reason="no-allow-match"\} 1/);
  assert.match(text, /meshlet_rbac_audited_total\{policy="b\/audit"\} 1/);
});
