/**
 * The outbound mTLS client (`MtlsClient`) against a real inbound sidecar (InboundMtls →
 * authz → app): a cached TLS session is never offered past the certificates behind it, so
 * connections across a certificate's expiry do a full handshake and succeed. Certificates
 * live a few seconds; the test waits for the real expiry, polled within bounds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'undici';
import type { CertificateAuthority } from '../../operator/ca/authority.ts';
import { MtlsClient, type MtlsTarget } from '../../proxy/security/tls-contexts.ts';
import { mtlsAgent, startApp, startSidecar, type App } from './fixture.ts';
import { issue, tempDir, testCa, TD } from './helpers.ts';

const B = 'spiffe://cluster.local/ns/b/sa/db';
let dirs: { dir: string; cleanup: () => void };
let ca: CertificateAuthority;
let app: App;

before(async () => {
  dirs = tempDir('client-session');
  ca = await testCa(dirs.dir);
  app = await startApp();
});
after(async () => {
  await app?.close();
  dirs?.cleanup();
});

/** Waits (bounded) until the real clock is past `t` plus a second of margin. */
async function waitPast(t: Date, boundMs: number): Promise<void> {
  const end = Date.now() + boundMs;
  while (Date.now() <= t.getTime() + 1_000 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  assert.ok(Date.now() > t.getTime() + 1_000, 'certificate did not expire within the bound');
}

/** `n` requests, each on a fresh connection (so each offers the cached session); failure messages. */
async function freshRequests(client: MtlsClient, port: number, n: number, tag: string): Promise<string[]> {
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    const agent = mtlsAgent(client, B);
    try {
      const res = await request(`http://127.0.0.1:${port}/${tag}/${i}`, { dispatcher: agent, headersTimeout: 5_000, bodyTimeout: 5_000 });
      await res.body.text();
      if (res.statusCode !== 200) failures.push(`${tag}/${i}: status ${res.statusCode}`);
    } catch (e) {
      failures.push(`${tag}/${i}: ${(e as Error).message}`);
    } finally {
      await agent.close();
    }
  }
  return failures;
}

test('server certificate rotated, old one expired: its session is no longer offered and requests keep succeeding', async (t) => {
  const shortB = await issue(ca, 'b', 'db', 4_000);
  const sc = await startSidecar({ cert: shortB, mode: 'STRICT', appPort: app.port });
  t.after(() => sc.close());
  const clientCert = await issue(ca, 'a', 'web');
  const client = new MtlsClient(() => clientCert, TD);
  const target: MtlsTarget = { host: '127.0.0.1', port: sc.port, identity: B };

  const failures = await freshRequests(client, sc.port, 3, 'before');
  assert.ok(client.connectOptions(target).session !== undefined, 'a session with the first server certificate is cached and offered');
  // The server renews before expiry, as a proxy does at half of the certificate's life.
  sc.inbound.rotate(await issue(ca, 'b', 'db'));
  await waitPast(shortB.notAfter, 15_000);
  assert.equal(client.connectOptions(target).session, undefined, 'a session whose server certificate expired is not offered');
  failures.push(...(await freshRequests(client, sc.port, 5, 'after')));
  assert.deepEqual(failures, []);
  assert.deepEqual(sc.refused, []);
});

test('a connection in flight while the client certificate rotates leaves no session of the old certificate behind', async (t) => {
  const sc = await startSidecar({ cert: await issue(ca, 'b', 'db'), mode: 'STRICT', appPort: app.port });
  t.after(() => sc.close());
  const shortA = await issue(ca, 'a', 'web', 4_000);
  const longA = await issue(ca, 'a', 'web');
  let clientCert = shortA;
  const client = new MtlsClient(() => clientCert, TD);
  const target: MtlsTarget = { host: '127.0.0.1', port: sc.port, identity: B };

  // Dial with the short certificate, then rotate the client before that handshake completes.
  const inFlight = client.connect(target);
  clientCert = longA;
  client.connectOptions(target);
  inFlight.on('error', () => undefined);
  inFlight.once('secureConnect', () => inFlight.end('GET /in-flight HTTP/1.1\r\nhost: b\r\nconnection: close\r\n\r\n'));
  inFlight.resume();
  await once(inFlight, 'close');

  await waitPast(shortA.notAfter, 15_000);
  const failures = await freshRequests(client, sc.port, 5, 'after');
  assert.deepEqual(failures, []);
  assert.deepEqual(sc.refused, [], 'no resumption refused by the server');
});
