/**
 * A real `meshlet proxy` with a workload certificate and STRICT mTLS: clients that connect and
 * close, connect and stay silent, or stop half-way through a ClientHello must not leave
 * descriptors behind. The headers timeout is set small (400 ms) so the silent cases close
 * quickly; the assertions are descriptor counts and closes seen by the client, polled within
 * bounds far below Node's 120 s TLS handshake default.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { listener, snapshot } from '../proxy/helpers/snapshot.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';
import { MtlsClient } from '../../proxy/security/tls-contexts.ts';
import { mtlsAgent } from './fixture.ts';
import { issue, tempDir, testCa, TD } from './helpers.ts';

const BLOCK = 86;
const B_ID = 'spiffe://cluster.local/ns/b/sa/db';
const PROBES = 200;
const SILENT = 40;

const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** Polls `pred` every 50 ms for at most `ms`; returns its last value. */
async function until(pred: () => boolean, ms: number): Promise<boolean> {
  for (let i = 0; i < ms / 50; i++) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

const open = (host: string, port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => resolve(s));
    s.once('error', reject);
  });

describe('STRICT inbound: no descriptor leak from probes, silence or a stalled handshake', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: Upstream;
  let b: ProxyProcess;
  let pid: number;
  let agent: ReturnType<typeof mtlsAgent>;

  before(async () => {
    tmp = tempDir('inbound-fd');
    const ca = await testCa(join(tmp.dir, 'ca'));
    const certB = await issue(ca, 'b', 'db');
    const certA = await issue(ca, 'a', 'web');
    writeFileSync(join(tmp.dir, 'cert.pem'), certB.certChainPem);
    writeFileSync(join(tmp.dir, 'key.pem'), certB.keyPem);
    writeFileSync(join(tmp.dir, 'root.pem'), certB.rootCertPem);
    app = await startEcho('app', allocAddress(BLOCK));
    const snap = snapshot('b1', { listeners: [listener(8080, { direction: 'inbound', appPort: app.port })] });
    snap.proxy = { ...snap.proxy, namespace: 'b', workload: 'db', serviceAccount: 'db', spiffeId: B_ID };
    snap.security.peerAuthentication.mode = 'STRICT';
    const files = ['--cert-file', join(tmp.dir, 'cert.pem'), '--key-file', join(tmp.dir, 'key.pem'), '--root-file', join(tmp.dir, 'root.pem')];
    b = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: snap, args: ['--app-host', app.address, '--headers-timeout-ms', '400', ...files] });
    pid = b.child.pid!;
    agent = mtlsAgent(new MtlsClient(() => certA, TD), B_ID);
  });

  after(async () => {
    await agent?.close();
    await b?.stop();
    await app?.close();
    tmp?.cleanup();
  });

  it('serves mTLS, then connect-and-close probes leave no descriptors', async () => {
    const r = await request(`http://${b.bind}:${b.ports.inbound}/ok`, { dispatcher: agent });
    await r.body.text();
    assert.equal(r.statusCode, 200);
    const baseline = fds(pid);
    for (let i = 0; i < PROBES; i++) {
      const s = await open(b.bind, b.ports.inbound);
      s.end();
      s.on('error', () => undefined);
    }
    const back = await until(() => fds(pid) <= baseline + 3, 5_000);
    assert.ok(back, `descriptors ${baseline} before, ${fds(pid)} after ${PROBES} connect-and-close probes`);
  });

  it('silent clients and a ClientHello stalled mid-record are closed by the proxy', async () => {
    const baseline = fds(pid);
    const sockets: Socket[] = [];
    let closed = 0;
    for (let i = 0; i < SILENT; i++) {
      const s = await open(b.bind, b.ports.inbound);
      s.on('error', () => undefined);
      s.on('close', () => (closed += 1));
      // Half the probes start a TLS record (type, version) and stop: a handshake that never finishes.
      if (i % 2 === 1) s.write(Buffer.from([0x16, 0x03, 0x01]));
      sockets.push(s);
    }
    const allClosed = await until(() => closed === SILENT, 10_000);
    for (const s of sockets) s.destroy();
    assert.ok(allClosed, `${closed} of ${SILENT} silent or stalled connections closed by the proxy`);
    const back = await until(() => fds(pid) <= baseline + 3, 5_000);
    assert.ok(back, `descriptors ${baseline} before, ${fds(pid)} after`);
    // Still serving after the probes.
    const r = await request(`http://${b.bind}:${b.ports.inbound}/again`, { dispatcher: agent });
    await r.body.text();
    assert.equal(r.statusCode, 200);
  });
});
