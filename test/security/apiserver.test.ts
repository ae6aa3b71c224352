/**
 * The CA and issuance against a real kube-apiserver (test/cluster): the CA Secret is created
 * then reused, the root is published to injected namespaces, and tokens are checked with a
 * real TokenReview (audience `meshlet`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { Agent, request } from 'undici';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { x509 } from '../../common/security/x509.ts';
import { generateP256, SIGN_ECDSA_SHA256 } from '../../common/security/keys.ts';
import { CertificateAuthority, generateRoot } from '../../operator/ca/authority.ts';
import { createPushAuthenticate } from '../../operator/ca/authenticate.ts';
import { certificatesPlugin } from '../../operator/ca/issuance.ts';
import { publishRootToInjectedNamespaces, ROOT_CONFIGMAP } from '../../operator/ca/root-publisher.ts';
import { CA_SECRET, SecretCaStore } from '../../operator/ca/secret-store.ts';
import { TokenReviewVerifier } from '../../operator/ca/token-verifier.ts';
import { newKeyAndCsr } from '../../proxy/security/workload-cert.ts';
import { TD } from './helpers.ts';

let cluster: Cluster;
let core: CoreV1Api;

before(async () => {
  cluster = await startCluster();
  core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'meshlet-system' } } });
});
after(async () => {
  await cluster?.stop();
});

test('CA: first start creates Secret meshlet-ca (P-256 root); a restart reuses it', async () => {
  const ca1 = await CertificateAuthority.loadOrCreate(new SecretCaStore(core), { trustDomain: TD });
  const secret = await core.readNamespacedSecret({ name: CA_SECRET, namespace: 'meshlet-system' });
  assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
  const root = new X509Certificate(Buffer.from(secret.data?.['root-cert.pem'] ?? '', 'base64'));
  assert.equal(root.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const ca2 = await CertificateAuthority.loadOrCreate(new SecretCaStore(core), { trustDomain: TD });
  assert.equal(ca2.origin, 'generated');
  assert.equal(ca2.caCert.serialNumber, ca1.caCert.serialNumber);
  const again = await core.readNamespacedSecret({ name: CA_SECRET, namespace: 'meshlet-system' });
  assert.equal(again.metadata?.resourceVersion, secret.metadata?.resourceVersion, 'the Secret was not rewritten');
});

test('CA: a user Secret cacerts (Istio shape) wins over generating', async () => {
  await core.createNamespace({ body: { metadata: { name: 'byo-ca' } } });
  const now = Date.now();
  const mine = await generateRoot('corp', new Date(now - 60_000), new Date(now + 365 * 86400_000));
  await core.createNamespacedSecret({ namespace: 'byo-ca', body: { metadata: { name: 'cacerts' }, stringData: {
    'ca-cert.pem': mine.caCertPem, 'ca-key.pem': mine.caKeyPem, 'root-cert.pem': mine.rootCertPem, 'cert-chain.pem': mine.certChainPem,
  } } });
  const ca = await CertificateAuthority.loadOrCreate(new SecretCaStore(core, 'byo-ca'), { trustDomain: TD });
  assert.equal(ca.origin, 'user');
  assert.equal(ca.rootCertPem, mine.rootCertPem);
  await assert.rejects(core.readNamespacedSecret({ name: CA_SECRET, namespace: 'byo-ca' }), (e: { code?: number }) => e.code === 404);
});

test('CA: the bring-your-own Secret can have another name (chart value ca.existingSecret); a generated root gets the TTL asked for', async () => {
  await core.createNamespace({ body: { metadata: { name: 'byo-named' } } });
  const now = Date.now();
  const mine = await generateRoot('corp', new Date(now - 60_000), new Date(now + 365 * 86400_000));
  await core.createNamespacedSecret({ namespace: 'byo-named', body: { metadata: { name: 'corp-ca' }, stringData: {
    'ca-cert.pem': mine.caCertPem, 'ca-key.pem': mine.caKeyPem, 'root-cert.pem': mine.rootCertPem, 'cert-chain.pem': mine.certChainPem,
  } } });
  const named = await CertificateAuthority.loadOrCreate(new SecretCaStore(core, 'byo-named', 'corp-ca'), { trustDomain: TD });
  assert.equal(named.origin, 'user');
  assert.equal(named.rootCertPem, mine.rootCertPem);
  // Under the default name the same namespace has no user CA: a root is generated, with the asked-for lifetime.
  const generated = await CertificateAuthority.loadOrCreate(new SecretCaStore(core, 'byo-named'), { trustDomain: TD, rootTtlMs: 2 * 365 * 86400_000 });
  assert.equal(generated.origin, 'generated');
  const days = (generated.rootNotAfter.getTime() - Date.now()) / 86400_000;
  assert.ok(days > 729 && days < 731, `root lifetime ${days} days`);
});

test('root ConfigMap meshlet-ca-root is published in injected namespaces only, and kept current', async () => {
  await core.createNamespace({ body: { metadata: { name: 'inj-label', labels: { 'sidecar.inject': 'true' } } } });
  await core.createNamespace({ body: { metadata: { name: 'inj-istio', labels: { 'istio-injection': 'enabled' } } } });
  await core.createNamespace({ body: { metadata: { name: 'plain-ns' } } });
  const ca = await CertificateAuthority.loadOrCreate(new SecretCaStore(core), { trustDomain: TD });
  assert.deepEqual((await publishRootToInjectedNamespaces(core, ca.rootCertPem)).sort(), ['inj-istio', 'inj-label']);
  const cm = await core.readNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace: 'inj-label' });
  assert.equal(cm.data?.['root-cert.pem'], ca.rootCertPem);
  await assert.rejects(core.readNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace: 'plain-ns' }), (e: { code?: number }) => e.code === 404);
  assert.deepEqual(await publishRootToInjectedNamespaces(core, ca.rootCertPem), [], 'unchanged root: nothing written');
});

test('issuance with a real TokenReview: A gets A (never B); wrong audience refused; another namespace cannot read its config', async (t) => {
  const ca = await CertificateAuthority.loadOrCreate(new SecretCaStore(core), { trustDomain: TD });
  const verifier = new TokenReviewVerifier(cluster.kubeConfig().makeApiClient(AuthenticationV1Api));
  const app: FastifyInstance = Fastify();
  await app.register(certificatesPlugin, { ca: () => ca, verifier, trustDomain: TD });
  const hook = createPushAuthenticate({ verifier, trustDomain: TD });
  app.get('/v1/config', async (req, reply) => {
    const [name = '', namespace = ''] = String((req.query as Record<string, string>).proxy).split('.');
    try {
      return await hook(req, { name, namespace });
    } catch (e) {
      const code = (e as { code: string }).code;
      return reply.code(code.endsWith('FORBIDDEN') ? 403 : 401).send({ code });
    }
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const dispatcher = new Agent();
  t.after(() => dispatcher.close());

  const tokenA = (await cluster.serviceAccountKubeconfig('team-a', 'web', { audiences: ['meshlet'] })).token;
  await cluster.serviceAccountKubeconfig('team-b', 'db', { audiences: ['meshlet'] });
  const apiAudience = await cluster.requestToken('team-a', 'web');

  // A CSR that asks for B's identity still yields A's.
  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=db', keys, signingAlgorithm: SIGN_ECDSA_SHA256, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://cluster.local/ns/team-b/sa/db' }])],
  });
  const post = async (token: string, pem: string): Promise<{ status: number; json: Record<string, string> }> => {
    const res = await request(`${base}/v1/certificates`, { method: 'POST', dispatcher, body: JSON.stringify({ csr: pem }), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, string> };
  };
  const issued = await post(tokenA, csr.toString('pem'));
  assert.equal(issued.status, 200);
  assert.equal(new X509Certificate(issued.json.certChain as string).subjectAltName, 'URI:spiffe://cluster.local/ns/team-a/sa/web');

  const wrongAud = await post(apiAudience, (await newKeyAndCsr()).csrPem);
  assert.deepEqual([wrongAud.status, wrongAud.json.code], [401, 'MESHLET_SECURITY_UNAUTHENTICATED']);
  const forged = await post(`${tokenA.slice(0, -4)}AAAA`, (await newKeyAndCsr()).csrPem);
  assert.equal(forged.status, 401);

  const cfg = async (proxy: string): Promise<number> => {
    const res = await request(`${base}/v1/config?proxy=${proxy}`, { dispatcher, headers: { authorization: `Bearer ${tokenA}` } });
    await res.body.text();
    return res.statusCode;
  };
  assert.equal(await cfg('web-0.team-a'), 200);
  assert.equal(await cfg('db-0.team-b'), 403);
});
