/**
 * Raw TCP through a real `meshlet proxy` inbound under STRICT mTLS: a client with A's
 * workload cert reaches a TCP echo app; an AuthorizationPolicy (principal) refuses another
 * identity's connection; the TCP metrics carry mutual_tls and the peer principal.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import type { WorkloadCert } from '../../proxy/security/workload-cert.ts';
import { MtlsClient } from '../../proxy/security/tls-contexts.ts';
import { issue, tempDir, testCa, TD } from '../security/helpers.ts';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { listener, snapshot } from '../proxy/helpers/snapshot.ts';

const BLOCK = 73;
const B_ID = 'spiffe://cluster.local/ns/b/sa/db';

/** Sends `msg` over mTLS and returns what came back before the connection closed (bounded). */
function exchange(cert: WorkloadCert, host: string, port: number, msg: string): Promise<string> {
  return new Promise((resolve) => {
    const s = new MtlsClient(() => cert, TD).connect({ host, port, identity: B_ID });
    let got = '';
    const timer = setTimeout(() => s.destroy(), 5_000);
    s.on('secureConnect', () => s.write(msg));
    s.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length >= msg.length) s.end();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

describe('TCP over mTLS into a real proxy (STRICT, principal policy)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: Server;
  let b: ProxyProcess;
  let certA: WorkloadCert, certC: WorkloadCert;
  let appConns = 0;

  before(async () => {
    tmp = tempDir('proxy-tcp');
    const ca = await testCa(join(tmp.dir, 'ca'));
    const certB = await issue(ca, 'b', 'db');
    certA = await issue(ca, 'a', 'web');
    certC = await issue(ca, 'c', 'other');
    const f = (n: string) => join(tmp.dir, n);
    writeFileSync(f('b.crt'), certB.certChainPem);
    writeFileSync(f('b.key'), certB.keyPem);
    writeFileSync(f('root.pem'), certB.rootCertPem);
    const appAddr = allocAddress(BLOCK);
    app = createServer((s) => {
      appConns++;
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((r) => app.listen(0, appAddr, r));
    const s = snapshot('b1', { listeners: [listener(9000, { direction: 'inbound', protocol: 'tcp', appPort: (app.address() as AddressInfo).port })] });
    s.proxy = { ...s.proxy, namespace: 'b', workload: 'db', serviceAccount: 'db', spiffeId: B_ID };
    s.security = {
      peerAuthentication: { mode: 'STRICT', ports: {}, provenance: { kind: 'PeerAuthentication', namespace: 'b', name: 'default' } },
      authorization: [{ name: 'b/allow-web', action: 'ALLOW', provenance: { kind: 'AuthorizationPolicy', namespace: 'b', name: 'allow-web' }, rules: [{ from: [{ principals: ['cluster.local/ns/a/sa/web'] }], to: [], when: [] }] }],
    };
    s.telemetry = { metrics: true, accessLog: false, tracing: { samplingPercent: 0 } };
    b = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: s, args: ['--app-host', appAddr, '--cert-file', f('b.crt'), '--key-file', f('b.key'), '--root-file', f('root.pem')] });
  });

  after(async () => {
    await b?.stop();
    await new Promise((r) => app?.close(r));
    tmp?.cleanup();
  });

  it('the allowed principal\'s bytes reach the app and come back', async () => {
    assert.equal(await exchange(certA, b.bind, b.ports.inbound, 'ping-over-mtls'), 'ping-over-mtls');
  });

  it('another identity is refused by the policy before the app sees a connection', async () => {
    const before = appConns;
    assert.equal(await exchange(certC, b.bind, b.ports.inbound, 'hello'), '');
    assert.equal(appConns, before);
  });

  it('TCP metrics show mutual_tls and the peer principal', async () => {
    const text = await (await request(`http://${b.bind}:${b.ports.stats}/stats/prometheus`)).body.text();
    const line = text.split('\n').find((l) => l.startsWith('istio_tcp_connections_opened_total{') && l.includes('source_principal="spiffe://cluster.local/ns/a/sa/web"'));
    assert.ok(line, 'opened-connections series for A');
    assert.match(line, /connection_security_policy="mutual_tls"/);
    assert.match(line, /reporter="destination"/);
    assert.match(text, /meshlet_rbac_denied_total\{[^}]*\} [1-9]/);
  });
});
