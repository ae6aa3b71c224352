import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import { createLogger } from '../../common/log.ts';
import { x509 } from '../../common/security/x509.ts';
import { generateP256, exportPrivateKeyPem, SIGN_ECDSA_SHA256, randomSerial } from '../../common/security/keys.ts';
import { CertificateAuthority, generateRoot } from '../../operator/ca/authority.ts';
import { DirectoryCaStore } from '../../operator/ca/dir-store.ts';
import { checkRootExpiry, registerRootExpiryGauge } from '../../operator/ca/expiry.ts';
import { newKeyAndCsr } from '../../proxy/security/workload-cert.ts';
import { TD, tempDir } from './helpers.ts';

test('first start creates an ECDSA P-256 root in the store; restart reuses it', async (t) => {
  const { dir, cleanup } = tempDir('ca');
  t.after(cleanup);
  const ca1 = await CertificateAuthority.loadOrCreate(new DirectoryCaStore(dir), { trustDomain: TD });
  assert.equal(ca1.origin, 'generated');
  const root = new X509Certificate(readFileSync(join(dir, 'meshlet-ca', 'root-cert.pem')));
  assert.equal(root.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(root.ca, true);
  assert.equal(statSync(join(dir, 'meshlet-ca', 'ca-key.pem')).mode & 0o777, 0o600);
  const ca2 = await CertificateAuthority.loadOrCreate(new DirectoryCaStore(dir), { trustDomain: TD });
  assert.equal(ca2.caCert.serialNumber, ca1.caCert.serialNumber);
  assert.equal(ca2.rootCertPem, ca1.rootCertPem);
});

test('the issued cert carries ONLY the identity given, whatever the CSR asked for', async (t) => {
  const { dir, cleanup } = tempDir('ca');
  t.after(cleanup);
  const ca = await CertificateAuthority.loadOrCreate(new DirectoryCaStore(dir), { trustDomain: TD });
  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=admin', keys, signingAlgorithm: SIGN_ECDSA_SHA256,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://cluster.local/ns/kube-system/sa/admin' }, { type: 'dns', value: 'evil.example' }])],
  });
  const out = await ca.sign(csr.toString('pem'), 'spiffe://cluster.local/ns/a/sa/web', 3_600_000);
  const leaf = new X509Certificate(out.certPem);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/a/sa/web');
  assert.equal(leaf.subject, undefined);
  assert.equal(leaf.ca, false);
  assert.ok(leaf.checkIssued(new X509Certificate(ca.rootCertPem)));
  assert.ok(leaf.verify(new X509Certificate(ca.rootCertPem).publicKey));
  // TTL as asked, plus the 60 s backdating for clock skew.
  assert.equal(new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime(), 3_600_000 + 60_000);
});

test('a tampered CSR (bad signature) is refused', async (t) => {
  const { dir, cleanup } = tempDir('ca');
  t.after(cleanup);
  const ca = await CertificateAuthority.loadOrCreate(new DirectoryCaStore(dir), { trustDomain: TD });
  const { csrPem } = await newKeyAndCsr();
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff;
  const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(ca.sign(bad, 'spiffe://cluster.local/ns/a/sa/web', 1000), (e: Error & { code?: string }) => e.code === 'MESHLET_SECURITY_BAD_CSR');
  await assert.rejects(ca.sign('not a csr', 'spiffe://cluster.local/ns/a/sa/web', 1000), (e: Error & { code?: string }) => e.code === 'MESHLET_SECURITY_BAD_CSR');
});

/** A user's intermediate CA in Istio's cacerts shape, signed by their own offline root. */
async function userCacerts(dir: string): Promise<{ rootPem: string }> {
  const now = Date.now();
  const root = await generateRoot('corp', new Date(now - 60_000), new Date(now + 10 * 365 * 86400_000));
  const rootCert = new x509.X509Certificate(root.caCertPem);
  const { importSigningKey } = await import('../../common/security/keys.ts');
  const rootKey = await importSigningKey(root.caKeyPem);
  const interKeys = await generateP256();
  const inter = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(), subject: 'O=corp, CN=meshlet intermediate', issuer: rootCert.subject, notBefore: new Date(now - 60_000), notAfter: new Date(now + 365 * 86400_000),
    publicKey: interKeys.publicKey, signingKey: rootKey.key, signingAlgorithm: SIGN_ECDSA_SHA256,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey)],
  });
  const interPem = `${inter.toString('pem')}\n`;
  mkdirSync(join(dir, 'cacerts'), { recursive: true });
  writeFileSync(join(dir, 'cacerts', 'ca-cert.pem'), interPem);
  writeFileSync(join(dir, 'cacerts', 'ca-key.pem'), await exportPrivateKeyPem(interKeys.privateKey));
  writeFileSync(join(dir, 'cacerts', 'root-cert.pem'), root.rootCertPem);
  writeFileSync(join(dir, 'cacerts', 'cert-chain.pem'), interPem + root.rootCertPem);
  return { rootPem: root.rootCertPem };
}

test('bring-your-own intermediate (cacerts shape): used instead of generating, chains to the user root', async (t) => {
  const { dir, cleanup } = tempDir('ca');
  t.after(cleanup);
  const { rootPem } = await userCacerts(dir);
  const ca = await CertificateAuthority.loadOrCreate(new DirectoryCaStore(dir), { trustDomain: TD });
  assert.equal(ca.origin, 'user');
  assert.throws(() => statSync(join(dir, 'meshlet-ca')), /ENOENT/);
  const { csrPem } = await newKeyAndCsr();
  const out = await ca.sign(csrPem, 'spiffe://cluster.local/ns/a/sa/web', 3_600_000);
  const chain = out.certChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  assert.equal(chain.length, 3);
  const leaf = new X509Certificate(chain[0] as string);
  const inter = new X509Certificate(chain[1] as string);
  assert.ok(leaf.verify(inter.publicKey));
  assert.ok(inter.verify(new X509Certificate(rootPem).publicKey));
  assert.equal(out.rootCertPem, rootPem);
});

test('bring-your-own material whose key does not match its cert is refused with MESHLET_SECURITY_CA_LOAD', async (t) => {
  const { dir, cleanup } = tempDir('ca');
  t.after(cleanup);
  await userCacerts(dir);
  writeFileSync(join(dir, 'cacerts', 'ca-key.pem'), await exportPrivateKeyPem((await generateP256()).privateKey));
  await assert.rejects(CertificateAuthority.loadOrCreate(new DirectoryCaStore(dir), { trustDomain: TD }), (e: Error & { code?: string }) => e.code === 'MESHLET_SECURITY_CA_LOAD' && /does not match/.test(e.message));
});

test('root expiry: gauge in seconds, warning only within 30 days (injected clock)', async (t) => {
  const { dir, cleanup } = tempDir('ca');
  t.after(cleanup);
  const start = Date.parse('2026-01-01T00:00:00Z');
  const ca = await CertificateAuthority.loadOrCreate(new DirectoryCaStore(dir), { trustDomain: TD, now: () => start, rootTtlMs: 90 * 86400_000 });
  const lines: string[] = [];
  const out = new PassThrough();
  out.on('data', (c: Buffer) => lines.push(...c.toString().trim().split('\n')));
  const log = createLogger({ component: 'operator', destination: out, level: 'info' });
  const expiry = ca.rootNotAfter.getTime();
  assert.equal(checkRootExpiry(ca, expiry - 31 * 86400_000, log), false);
  assert.equal(checkRootExpiry(ca, expiry - 29 * 86400_000, log), true);
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0] as string) as { level: number; code: string };
  assert.equal(entry.code, 'MESHLET_SECURITY_ROOT_EXPIRING');
  assert.equal(entry.level, 40);
  const registry = new Registry();
  let now = expiry - 1000_000;
  registerRootExpiryGauge(registry, () => ca, () => now);
  assert.match(await registry.metrics(), /meshlet_ca_root_cert_expiry_seconds 1000\b/);
  now = expiry + 5000;
  assert.match(await registry.metrics(), /meshlet_ca_root_cert_expiry_seconds -5\b/);
});
