/**
 * Certificate rotation under a bounded steady load: the server swaps its context with
 * setSecureContext and the client switches contexts for new connections, three times each,
 * while requests run on kept-alive and fresh connections. No request may fail, a connection
 * opened before the rotations still works after them, and new handshakes see the new cert.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Agent} from 'undici';
import { request } from 'undici';
import { MtlsClient } from '../../proxy/security/tls-contexts.ts';
import type { WorkloadCert } from '../../proxy/security/workload-cert.ts';
import { mtlsAgent, startApp, startSidecar, type App, type Sidecar } from './fixture.ts';
import { issue, tempDir, testCa, TD } from './helpers.ts';

const B = 'spiffe://cluster.local/ns/b/sa/db';
let dirs: { dir: string; cleanup: () => void };
let app: App;
let sc: Sidecar;

before(async () => {
  dirs = tempDir('rot');
  app = await startApp();
});
after(async () => {
  await sc?.close();
  await app?.close();
  dirs?.cleanup();
});

test('rotation under load: 0 failed requests, live connections kept, new handshakes use the new cert', async () => {
  const ca = await testCa(dirs.dir);
  const serverCerts: WorkloadCert[] = [];
  const clientCerts: WorkloadCert[] = [];
  for (let i = 0; i < 4; i++) {
    serverCerts.push(await issue(ca, 'b', 'db'));
    clientCerts.push(await issue(ca, 'a', 'web'));
  }
  let clientCert = clientCerts[0] as WorkloadCert;
  sc = await startSidecar({ cert: serverCerts[0] as WorkloadCert, mode: 'STRICT', appPort: app.port });
  const client = new MtlsClient(() => clientCert, TD);

  // A connection opened before any rotation, used again after all of them.
  const early = client.connect({ host: '127.0.0.1', port: sc.port, identity: B });
  await once(early, 'secureConnect');
  let earlyText = '';
  let waiter: (() => void) | undefined;
  early.on('data', (c: Buffer) => {
    earlyText += c.toString();
    // The app answers a JSON object: a full response ends with its closing brace.
    if (/\r\n\r\n[\s\S]*\}$/.test(earlyText)) waiter?.();
  });
  let earlyClosed = false;
  early.on('close', () => {
    earlyClosed = true;
    waiter?.();
  });
  const ask = async (path: string): Promise<string> => {
    earlyText = '';
    const done = new Promise<void>((r) => (waiter = r));
    early.write(`GET ${path} HTTP/1.1\r\nhost: b\r\n\r\n`);
    await done;
    return earlyText;
  };
  assert.match(await ask('/early'), /^HTTP\/1.1 200/);

  const kept = mtlsAgent(client, B, { connections: 4, keepAliveTimeout: 60_000 });
  const TOTAL_BATCHES = 30;
  const PER_BATCH = 10;
  let ok = 0;
  const failures: string[] = [];
  for (let batch = 0; batch < TOTAL_BATCHES; batch++) {
    if (batch % 8 === 4 && batch < 24) {
      const gen = (batch - 4) / 8 + 1;
      sc.inbound.rotate(serverCerts[gen] as WorkloadCert);
      clientCert = clientCerts[gen] as WorkloadCert;
    }
    await Promise.all(Array.from({ length: PER_BATCH }, async (_, i) => {
      // Every other request on a fresh connection (a full handshake with the current certs).
      const fresh: Agent | undefined = i % 2 === 0 ? mtlsAgent(client, B) : undefined;
      try {
        const res = await request(`http://127.0.0.1:${sc.port}/r/${batch}/${i}`, { dispatcher: fresh ?? kept, headersTimeout: 10_000, bodyTimeout: 10_000 });
        await res.body.text();
        if (res.statusCode === 200) ok += 1;
        else failures.push(`status ${res.statusCode}`);
      } catch (e) {
        failures.push((e as Error).message);
      } finally {
        await fresh?.close();
      }
    }));
  }
  assert.deepEqual(failures, []);
  assert.equal(ok, TOTAL_BATCHES * PER_BATCH);

  // The early connection survived three server and client rotations.
  assert.equal(earlyClosed, false);
  assert.match(await ask('/late'), /^HTTP\/1.1 200/);
  assert.equal(app.received.at(-1)?.url, '/late');

  // A new full handshake (fresh client, no session to resume) sees the last server cert.
  const s = new MtlsClient(() => clientCert, TD).connect({ host: '127.0.0.1', port: sc.port, identity: B });
  await once(s, 'secureConnect');
  assert.equal(s.getPeerCertificate().serialNumber.toLowerCase(), serverCerts[3]?.serial);
  s.destroy();
  early.destroy();
  await kept.close();
});
