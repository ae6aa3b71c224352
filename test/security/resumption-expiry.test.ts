/**
 * A real `meshlet proxy` (STRICT, certificate files): a TLS session never outlives the
 * certificate that made it, on either side. A client whose certificate expired cannot resume
 * the session it made while valid; a session with a proxy whose certificate expired cannot be
 * resumed either. And before any config arrives, the inbound port refuses plaintext instead of
 * answering it. Certificates are issued with lifetimes of a few seconds; the test waits for
 * the real expiry (the proxy's clock), polled within bounds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { once } from 'node:events';
import type { WorkloadCert } from '../../proxy/security/workload-cert.ts';
import type { CertificateAuthority } from '../../operator/ca/authority.ts';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { listener, snapshot } from '../proxy/helpers/snapshot.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';
import { issue, tempDir, testCa } from './helpers.ts';

const BLOCK = 87;

interface Outcome {
  status?: number;
  reused: boolean;
  session?: Buffer;
  error?: string;
}

/** One HTTP/1.1 request over mTLS with a client cert, optionally resuming `session`. */
function mtlsGet(host: string, port: number, client: WorkloadCert, session?: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = tlsConnect({
      host, port, key: client.keyPem, cert: client.certChainPem, ca: client.rootCertPem, ALPNProtocols: ['http/1.1'],
      checkServerIdentity: () => undefined, ...(session === undefined ? {} : { session }),
    });
    let got: Buffer | undefined;
    let text = '';
    let reused = false;
    let error: string | undefined;
    const timer = setTimeout(() => s.destroy(new Error('no answer in 5 s')), 5_000);
    s.on('session', (b: Buffer) => (got = b));
    s.once('secureConnect', () => {
      reused = s.isSessionReused();
      s.write(`GET /r HTTP/1.1\r\nhost: b\r\nconnection: close\r\n\r\n`);
    });
    s.on('data', (c: Buffer) => (text += c.toString()));
    s.on('error', (e: Error) => (error = e.message));
    s.once('close', () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ reused, ...(m === null ? {} : { status: Number(m[1]) }), ...(got === undefined ? {} : { session: got }), ...(error === undefined ? {} : { error }) });
    });
  });
}

/** Waits (bounded) until the real clock is past `t` plus a second of margin. */
async function waitPast(t: Date, boundMs: number): Promise<void> {
  const end = Date.now() + boundMs;
  while (Date.now() <= t.getTime() + 1_000 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  assert.ok(Date.now() > t.getTime() + 1_000, 'certificate did not expire within the bound');
}

describe('TLS sessions never outlive their certificates; no plaintext answer before config', () => {
  let tmp: ReturnType<typeof tempDir>;
  let ca: CertificateAuthority;
  let app: Upstream;
  const procs: ProxyProcess[] = [];

  const startB = async (cert: WorkloadCert, name: string, args: string[] = []): Promise<ProxyProcess> => {
    for (const [f, pem] of [['cert', cert.certChainPem], ['key', cert.keyPem], ['root', cert.rootCertPem]] as const) writeFileSync(join(tmp.dir, `${name}-${f}.pem`), pem);
    const files = ['--cert-file', join(tmp.dir, `${name}-cert.pem`), '--key-file', join(tmp.dir, `${name}-key.pem`), '--root-file', join(tmp.dir, `${name}-root.pem`)];
    const snap = snapshot('b1', { listeners: [listener(8080, { direction: 'inbound', appPort: app.port })] });
    snap.proxy = { ...snap.proxy, namespace: 'b', workload: 'db', serviceAccount: 'db', spiffeId: cert.identity };
    snap.security.peerAuthentication.mode = 'STRICT';
    const p = await startProxyProcess({ bind: allocAddress(BLOCK), ...(args.length === 0 ? { snapshot: snap } : {}), args: ['--app-host', app.address, ...files, ...args] });
    procs.push(p);
    return p;
  };

  before(async () => {
    tmp = tempDir('resume');
    ca = await testCa(join(tmp.dir, 'ca'));
    app = await startEcho('app', allocAddress(BLOCK));
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await app?.close();
    tmp?.cleanup();
  });

  it('a client whose certificate expired cannot resume its session', async () => {
    const b = await startB(await issue(ca, 'b', 'db'), 'long');
    const shortA = await issue(ca, 'a', 'web', 3_000);
    const first = await mtlsGet(b.bind, b.ports.inbound, shortA);
    assert.equal(first.status, 200, first.error);
    assert.ok(first.session !== undefined, 'a session ticket');
    const fresh = await mtlsGet(b.bind, b.ports.inbound, shortA, first.session);
    assert.equal(fresh.status, 200, 'resumes while the certificate is valid');
    assert.equal(fresh.reused, true);
    await waitPast(shortA.notAfter, 10_000);
    const late = await mtlsGet(b.bind, b.ports.inbound, shortA, first.session);
    assert.equal(late.status, undefined, `expired client certificate: resumed=${late.reused}, status ${late.status}`);
  });

  it('a session with a proxy whose certificate expired cannot be resumed', async () => {
    const shortB = await issue(ca, 'b', 'db', 8_000);
    const b = await startB(shortB, 'short');
    const a = await issue(ca, 'a', 'web');
    const first = await mtlsGet(b.bind, b.ports.inbound, a);
    assert.equal(first.status, 200, first.error);
    assert.ok(first.session !== undefined, 'a session ticket');
    await waitPast(shortB.notAfter, 15_000);
    const late = await mtlsGet(b.bind, b.ports.inbound, a, first.session);
    assert.equal(late.status, undefined, `expired proxy certificate: resumed=${late.reused}, status ${late.status}`);
  });

  it('before any config the inbound port refuses plaintext rather than answering it', async () => {
    // An operator address where nothing listens: the proxy starts and waits for config.
    const hole = createServer();
    hole.listen(0, '127.0.0.1');
    await once(hole, 'listening');
    const port = (hole.address() as { port: number }).port;
    hole.close();
    const b = await startB(await issue(ca, 'b', 'db'), 'noconfig', ['--operator', `https://127.0.0.1:${port}`, '--pod', 'db-1', '--namespace', 'b', '--service-account', 'db']);
    const s = netConnect(b.ports.inbound, b.bind);
    s.on('error', () => undefined);
    s.write('GET / HTTP/1.1\r\nhost: b\r\n\r\n');
    // An answer (the old 503 NC) or the close/reset, whichever comes first; bounded.
    const first = await Promise.race([once(s, 'data').then(([c]) => String(c), () => ''), once(s, 'close').then(() => ''), new Promise<string>((r) => setTimeout(() => r('no close in 10 s'), 10_000))]);
    s.destroy();
    assert.equal(first, '', 'no answer before config');
  });
});
