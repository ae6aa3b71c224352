/**
 * Across real processes: the inbound sidecar of B runs as a child process that obtained its
 * certificate from the operator (in this process) with B's token; A calls it over mTLS.
 * STRICT refuses plaintext; the child's certificate rotates (SIGUSR2) under a bounded load
 * with no failed request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { createLogger } from '../../common/log.ts';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { DirectoryCaStore } from '../../operator/ca/dir-store.ts';
import { certificatesPlugin } from '../../operator/ca/issuance.ts';
import { issueOperatorServingCert } from '../../operator/ca/operator-cert.ts';
import { startCaService, type CaService } from '../../operator/ca/service.ts';
import { FileTokenVerifier } from '../../operator/ca/token-verifier.ts';
import { MtlsClient } from '../../proxy/security/tls-contexts.ts';
import { mtlsAgent, startApp, type App } from './fixture.ts';
import { issue, tempDir, TD } from './helpers.ts';

const B = 'spiffe://cluster.local/ns/b/sa/db';
let dirs: { dir: string; cleanup: () => void };
let svc: CaService;
let operator: FastifyInstance;
let app: App;
let child: ChildProcess | undefined;
let lines: AsyncIterator<string>;
let port = 0;

before(async () => {
  dirs = tempDir('proc');
  mkdirSync(join(dirs.dir, 'tokens', 'b'), { recursive: true });
  writeFileSync(join(dirs.dir, 'tokens', 'b', 'db.token'), 'tok-b-db');
  svc = await startCaService({ store: new DirectoryCaStore(join(dirs.dir, 'ca')), verifier: new FileTokenVerifier(join(dirs.dir, 'tokens')), trustDomain: TD, log: createLogger({ component: 'operator', level: 'silent' }) });
  const serving = await issueOperatorServingCert(svc.ca, { hosts: ['127.0.0.1'] });
  operator = Fastify({ https: { key: serving.keyPem, cert: serving.certChainPem } } as never) as unknown as FastifyInstance;
  await operator.register(certificatesPlugin, svc.issuance);
  await operator.listen({ host: '127.0.0.1', port: 0 });
  app = await startApp();
  writeFileSync(join(dirs.dir, 'root.pem'), svc.ca.rootCertPem);
  const basic = JSON.parse(readFileSync(new URL('../fixtures/snapshots/basic.json', import.meta.url), 'utf8')) as ProxySnapshot;
  basic.security = { peerAuthentication: { mode: 'STRICT', ports: {}, provenance: { kind: 'default', namespace: '', name: 'mesh' } }, authorization: [] };
  writeFileSync(join(dirs.dir, 'snapshot.json'), JSON.stringify(basic));
  const script = fileURLToPath(new URL('./sidecar-main.ts', import.meta.url));
  const operatorUrl = `https://127.0.0.1:${(operator.server.address() as { port: number }).port}`;
  child = spawn(process.execPath, [script, operatorUrl, join(dirs.dir, 'tokens', 'b', 'db.token'), join(dirs.dir, 'root.pem'), String(app.port), join(dirs.dir, 'snapshot.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
  lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const ready = (await lines.next()).value as string;
  assert.match(ready, /^READY \d+ [0-9a-f]+$/);
  port = Number(ready.split(' ')[1]);
});
after(async () => {
  if (child !== undefined && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  svc?.stop();
  await operator?.close();
  await app?.close();
  dirs?.cleanup();
});

test('child sidecar B: issued identity checked by A, STRICT refuses plaintext, rotation under load loses nothing', async (t) => {
  const certA = await issue(svc.ca, 'a', 'web');
  const client = new MtlsClient(() => certA, TD);
  const agent = mtlsAgent(client, B, { keepAliveTimeout: 60_000 });
  t.after(() => agent.close());
  const res = await request(`http://127.0.0.1:${port}/hello`, { dispatcher: agent });
  assert.equal(res.statusCode, 200);
  assert.match(((await res.body.json()) as { xfcc: string }).xfcc, /By=spiffe:\/\/cluster\.local\/ns\/b\/sa\/db;.*URI=spiffe:\/\/cluster\.local\/ns\/a\/sa\/web/);

  const wrong = mtlsAgent(client, 'spiffe://cluster.local/ns/b/sa/other');
  t.after(() => wrong.close());
  await assert.rejects(request(`http://127.0.0.1:${port}/x`, { dispatcher: wrong }), (e: Error & { code?: string }) => e.code === 'MESHLET_SECURITY_PEER_IDENTITY');

  const plain = netConnect(port, '127.0.0.1');
  plain.on('error', () => undefined);
  plain.write('GET / HTTP/1.1\r\nhost: b\r\n\r\n');
  let text = '';
  plain.on('data', (c: Buffer) => (text += c.toString()));
  await once(plain, 'close');
  assert.equal(text, '');

  let failures = 0;
  let rotatedSerial = '';
  for (let i = 0; i < 60; i++) {
    if (i === 20) {
      child?.kill('SIGUSR2');
      const line = (await lines.next()).value as string;
      assert.match(line, /^ROTATED [0-9a-f]+$/);
      rotatedSerial = line.split(' ')[1] ?? '';
    }
    const fresh = i % 2 === 0 ? mtlsAgent(new MtlsClient(() => certA, TD), B) : undefined;
    try {
      const r = await request(`http://127.0.0.1:${port}/r${i}`, { dispatcher: fresh ?? agent });
      await r.body.text();
      if (r.statusCode !== 200) failures += 1;
    } catch {
      failures += 1;
    } finally {
      await fresh?.close();
    }
  }
  assert.equal(failures, 0);
  const s = new MtlsClient(() => certA, TD).connect({ host: '127.0.0.1', port, identity: B });
  await once(s, 'secureConnect');
  assert.equal(s.getPeerCertificate().serialNumber.toLowerCase(), rotatedSerial);
  s.destroy();
});
