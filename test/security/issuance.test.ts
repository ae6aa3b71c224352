/**
 * POST /v1/certificates on a real fastify HTTPS server (as the operator's 15012 serves it),
 * local-mode token files, and the proxy's real client and renewal manager.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Agent, request } from 'undici';
import { x509 } from '../../common/security/x509.ts';
import { generateP256, SIGN_ECDSA_SHA256 } from '../../common/security/keys.ts';
import type { CertificateAuthority } from '../../operator/ca/authority.ts';
import { certificatesPlugin } from '../../operator/ca/issuance.ts';
import { createPushAuthenticate } from '../../operator/ca/authenticate.ts';
import { FileTokenVerifier } from '../../operator/ca/token-verifier.ts';
import { createCertRequester } from '../../proxy/security/cert-client.ts';
import { WorkloadCertManager, newKeyAndCsr, type Scheduler } from '../../proxy/security/workload-cert.ts';
import { issue, tempDir, testCa, TD } from './helpers.ts';

const OPERATOR_ID = 'spiffe://cluster.local/ns/meshlet-system/sa/meshlet-operator';
let ca: CertificateAuthority;
let app: FastifyInstance;
let url: string;
let dirs: { dir: string; cleanup: () => void };
let tokens: string;

before(async () => {
  dirs = tempDir('issue');
  ca = await testCa(join(dirs.dir, 'ca'));
  tokens = join(dirs.dir, 'tokens');
  for (const [ns, sa, tok] of [['a', 'web', 'token-a-web'], ['b', 'db', 'token-b-db']] as const) {
    mkdirSync(join(tokens, ns), { recursive: true });
    writeFileSync(join(tokens, ns, `${sa}.token`), `${tok}\n`);
    writeFileSync(join(dirs.dir, `${ns}-${sa}.token`), tok);
  }
  const serving = await issue(ca, 'meshlet-system', 'meshlet-operator');
  const verifier = new FileTokenVerifier(tokens);
  app = Fastify({ https: { key: serving.keyPem, cert: serving.certChainPem, ca: ca.rootCertPem, requestCert: true, rejectUnauthorized: false } } as never) as unknown as FastifyInstance;
  await app.register(certificatesPlugin, { ca: () => ca, verifier, trustDomain: TD, ttlMs: 24 * 3600_000 });
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
  const addr = app.server.address() as { port: number };
  url = `https://127.0.0.1:${addr.port}`;
});
after(async () => {
  await app?.close();
  dirs?.cleanup();
});

async function post(body: unknown, headers: Record<string, string>, tls: Record<string, unknown> = {}): Promise<{ status: number; json: Record<string, string> }> {
  const dispatcher = new Agent({ connect: { ca: ca.rootCertPem, checkServerIdentity: () => undefined, ...tls } });
  const res = await request(`${url}/v1/certificates`, { method: 'POST', dispatcher, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  const json = (await res.body.json()) as Record<string, string>;
  await dispatcher.close();
  return { status: res.statusCode, json };
}

test('a token for SA a/web gets exactly spiffe://cluster.local/ns/a/sa/web, even with a CSR asking for b/db', async () => {
  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=db', keys, signingAlgorithm: SIGN_ECDSA_SHA256, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://cluster.local/ns/b/sa/db' }])],
  });
  const { status, json } = await post({ csr: csr.toString('pem') }, { authorization: 'Bearer token-a-web' });
  assert.equal(status, 200);
  assert.equal(json.identity, 'spiffe://cluster.local/ns/a/sa/web');
  const leaf = new X509Certificate(json.certChain as string);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/a/sa/web');
  assert.equal(json.rootCert, ca.rootCertPem);
  // 24 h TTL by default (+60 s backdating).
  assert.equal(new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime(), 24 * 3600_000 + 60_000);
});

test('no token, a wrong token, or garbage → 401 with the catalog code; a bad CSR → 400', async () => {
  const { csrPem } = await newKeyAndCsr();
  for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Basic dXNlcg==' }] as Record<string, string>[]) {
    const { status, json } = await post({ csr: csrPem }, headers);
    assert.equal(status, 401);
    assert.equal(json.code, 'MESHLET_SECURITY_UNAUTHENTICATED');
  }
  const bad = await post({ csr: 'hello' }, { authorization: 'Bearer token-a-web' });
  assert.deepEqual([bad.status, bad.json.code], [400, 'MESHLET_SECURITY_BAD_CSR']);
});

test('renewal with the current workload cert (no token) keeps the same identity; a foreign CA cert is refused', async () => {
  const current = await issue(ca, 'b', 'db');
  const { csrPem } = await newKeyAndCsr();
  const ok = await post({ csr: csrPem }, {}, { key: current.keyPem, cert: current.certChainPem });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.identity, 'spiffe://cluster.local/ns/b/sa/db');
  const other = tempDir('other-ca');
  try {
    const foreign = await issue(await testCa(other.dir), 'b', 'db');
    const no = await post({ csr: csrPem }, {}, { key: foreign.keyPem, cert: foreign.certChainPem });
    assert.equal(no.status, 401);
  } finally {
    other.cleanup();
  }
});

test('push authenticate hook: a token from namespace a cannot read proxy config of namespace b', async () => {
  const dispatcher = new Agent({ connect: { ca: ca.rootCertPem, checkServerIdentity: () => undefined } });
  try {
    const get = async (proxy: string, token: string): Promise<{ status: number; body: Record<string, string> }> => {
      const res = await request(`${url}/v1/config?proxy=${proxy}`, { dispatcher, headers: { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, string> };
    };
    const own = await get('web-1.a', 'token-a-web');
    assert.equal(own.status, 200);
    assert.deepEqual(own.body, { name: 'web-1', namespace: 'a', serviceAccount: 'web' });
    const foreign = await get('db-1.b', 'token-a-web');
    assert.deepEqual([foreign.status, foreign.body.code], [403, 'MESHLET_SECURITY_FORBIDDEN']);
    const anon = await get('db-1.b', 'forged');
    assert.deepEqual([anon.status, anon.body.code], [401, 'MESHLET_SECURITY_UNAUTHENTICATED']);
  } finally {
    await dispatcher.close();
  }
});

test('the proxy client verifies the operator by SPIFFE ID; the manager renews at half of the usable life (injected clock)', async () => {
  let now = Date.now();
  const timers: { fn: () => void; at: number }[] = [];
  const schedule: Scheduler = (fn, delay) => {
    const t = { fn, at: now + delay };
    timers.push(t);
    return () => timers.splice(timers.indexOf(t), 1);
  };
  const requester = createCertRequester({ operatorUrl: url, tokenFile: join(dirs.dir, 'a-web.token'), caPem: ca.rootCertPem, operatorIdentity: OPERATOR_ID, ttlSeconds: 3600 });
  const mgr = new WorkloadCertManager({ request: requester, now: () => now, schedule });
  const rotated: string[] = [];
  mgr.onRotate((c) => rotated.push(c.serial));
  const first = await mgr.start();
  assert.equal(first.identity, 'spiffe://cluster.local/ns/a/sa/web');
  assert.equal(timers.length, 1);
  // Half of the usable life, counted from arrival (notBefore is backdated for clock skew).
  const halfLife = now + (first.notAfter.getTime() - Math.max(now, first.notBefore.getTime())) / 2;
  assert.equal(timers[0]?.at, halfLife);
  now = halfLife;
  const timer = timers.shift();
  timer?.fn();
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => { if (rotated.length === 2) { clearInterval(poll); resolve(); } }, 10);
  });
  assert.notEqual(mgr.current()?.serial, first.serial);
  assert.equal(mgr.current()?.generation, 2);
  mgr.stop();

  const wrongOperator = createCertRequester({ operatorUrl: url, tokenFile: join(dirs.dir, 'a-web.token'), caPem: ca.rootCertPem, operatorIdentity: 'spiffe://cluster.local/ns/evil/sa/x' });
  await assert.rejects(wrongOperator((await newKeyAndCsr()).csrPem), /different identity|MESHLET_SECURITY_PEER_IDENTITY|fetch failed/);
});
