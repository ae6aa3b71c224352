/**
 * End to end in local mode: the operator's CA service issues certificates over HTTPS to two
 * sidecars' renewal managers (token files); meshed A calls meshed B over mTLS with the
 * snapshot's PeerAuthentication and AuthorizationPolicy applied by ProxySecurity; B rotates
 * its certificate mid-run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { createLogger } from '../../common/log.ts';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { DirectoryCaStore } from '../../operator/ca/dir-store.ts';
import { certificatesPlugin } from '../../operator/ca/issuance.ts';
import { startCaService, type CaService } from '../../operator/ca/service.ts';
import { FileTokenVerifier } from '../../operator/ca/token-verifier.ts';
import { createCertRequester } from '../../proxy/security/cert-client.ts';
import { ProxySecurity } from '../../proxy/security/runtime.ts';
import { WorkloadCertManager } from '../../proxy/security/workload-cert.ts';
import { inboundHttp, listenWith, mtlsAgent, startApp, type App } from './fixture.ts';
import { issue, tempDir, TD } from './helpers.ts';

const OPERATOR = 'spiffe://cluster.local/ns/meshlet-system/sa/meshlet-operator';
let dirs: { dir: string; cleanup: () => void };
let svc: CaService;
let operator: FastifyInstance;
let url: string;
let app: App;

before(async () => {
  dirs = tempDir('e2e');
  const tokens = join(dirs.dir, 'tokens');
  for (const [ns, sa] of [['a', 'web'], ['b', 'db']]) {
    mkdirSync(join(tokens, ns as string), { recursive: true });
    writeFileSync(join(tokens, ns as string, `${sa}.token`), `tok-${ns}-${sa}`);
  }
  const log = createLogger({ component: 'operator', level: 'silent' });
  svc = await startCaService({ store: new DirectoryCaStore(join(dirs.dir, 'ca')), verifier: new FileTokenVerifier(tokens), trustDomain: TD, log });
  const serving = await issue(svc.ca, 'meshlet-system', 'meshlet-operator');
  operator = Fastify({ https: { key: serving.keyPem, cert: serving.certChainPem } } as never) as unknown as FastifyInstance;
  await operator.register(certificatesPlugin, svc.issuance);
  await operator.listen({ host: '127.0.0.1', port: 0 });
  url = `https://127.0.0.1:${(operator.server.address() as { port: number }).port}`;
  app = await startApp();
});
after(async () => {
  svc?.stop();
  await operator?.close();
  await app?.close();
  dirs?.cleanup();
});

function manager(ns: string, sa: string): WorkloadCertManager {
  return new WorkloadCertManager({ request: createCertRequester({ operatorUrl: url, tokenFile: join(dirs.dir, 'tokens', ns, `${sa}.token`), caPem: svc.ca.rootCertPem, operatorIdentity: OPERATOR }) });
}

test('meshed A → meshed B: issued identities, STRICT, authz from the snapshot, rotation without failures', async (t) => {
  const basic = JSON.parse(readFileSync(new URL('../fixtures/snapshots/basic.json', import.meta.url), 'utf8')) as ProxySnapshot;
  const snapshotB: ProxySnapshot = {
    ...basic,
    security: {
      peerAuthentication: { mode: 'STRICT', ports: {}, provenance: { kind: 'PeerAuthentication', namespace: 'meshlet-system', name: 'default' } },
      authorization: [{ name: 'b/get-only', action: 'ALLOW', rules: [{ from: [{ principals: ['cluster.local/ns/a/sa/web'] }], to: [{ methods: ['GET'] }], when: [] }], provenance: { kind: 'AuthorizationPolicy', namespace: 'b', name: 'get-only' } }],
    },
  };
  const certsB = manager('b', 'db');
  const holder: { http?: ReturnType<typeof inboundHttp> } = {};
  const secB = new ProxySecurity({
    certs: certsB, trustDomain: TD,
    onMtls: (s: TLSSocket) => holder.http?.emit('connection', s),
    onPlaintext: (s: Socket) => holder.http?.emit('connection', s),
  });
  await secB.start();
  t.after(() => secB.stop());
  const identityB = certsB.current()?.identity ?? '';
  assert.equal(identityB, 'spiffe://cluster.local/ns/b/sa/db');
  secB.applySnapshot(snapshotB);
  const http = inboundHttp(identityB, app.port, () => secB.authz);
  holder.http = http;
  const listener = await listenWith((s) => secB.handleInbound(s, app.port));
  t.after(async () => {
    http.closeAllConnections();
    await listener.close();
  });

  const certsA = manager('a', 'web');
  const secA = new ProxySecurity({ certs: certsA, trustDomain: TD, onMtls: (s) => s.destroy(), onPlaintext: (s) => s.destroy() });
  await secA.start();
  t.after(() => secA.stop());
  assert.equal(certsA.current()?.identity, 'spiffe://cluster.local/ns/a/sa/web');

  // Auto mTLS: the endpoint has an identity, so the transport is mTLS to exactly that identity.
  const transport = secA.transportFor({ tls: { mode: 'AUTO' } }, { identity: identityB });
  assert.deepEqual(transport, { kind: 'mtls', identity: identityB });
  const agent = mtlsAgent(secA.client, transport.kind === 'mtls' ? transport.identity : undefined, { keepAliveTimeout: 60_000 });
  t.after(() => agent.close());

  const before = app.received.length;
  const get = await request(`http://127.0.0.1:${listener.port}/reviews`, { dispatcher: agent });
  assert.equal(get.statusCode, 200);
  assert.match(((await get.body.json()) as { xfcc: string }).xfcc, /By=spiffe:\/\/cluster\.local\/ns\/b\/sa\/db;Hash=[0-9a-f]+;Subject="";URI=spiffe:\/\/cluster\.local\/ns\/a\/sa\/web/);
  const post = await request(`http://127.0.0.1:${listener.port}/reviews`, { dispatcher: agent, method: 'POST', body: 'x' });
  assert.equal(post.statusCode, 403);
  assert.equal((await post.body.text()).trim(), 'RBAC: access denied');

  // STRICT: plaintext is cut off.
  const plain = netConnect(listener.port, '127.0.0.1');
  plain.on('error', () => undefined);
  plain.write('GET / HTTP/1.1\r\nhost: b\r\n\r\n');
  let plainText = '';
  plain.on('data', (c: Buffer) => (plainText += c.toString()));
  await once(plain, 'close');
  assert.equal(plainText, '');

  // Rotation of B mid-run (bounded load): no failures.
  const serialBefore = certsB.current()?.serial;
  let failures = 0;
  for (let i = 0; i < 60; i++) {
    if (i === 20) await certsB.rotateNow();
    if (i === 40) await certsA.rotateNow();
    const fresh = i % 3 === 0 ? mtlsAgent(secA.client, identityB) : undefined;
    const res = await request(`http://127.0.0.1:${listener.port}/r${i}`, { dispatcher: fresh ?? agent });
    await res.body.text();
    await fresh?.close();
    if (res.statusCode !== 200) failures += 1;
  }
  assert.equal(failures, 0);
  assert.notEqual(certsB.current()?.serial, serialBefore);
  assert.equal(secB.secrets()[0]?.serial, certsB.current()?.serial);
  assert.deepEqual(app.received.slice(before).map((r) => r.method).filter((m) => m !== 'GET'), [], 'the denied POST never reached the app');
});
