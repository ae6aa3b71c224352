/**
 * Real `meshlet proxy` processes that obtain their workload certificates from the operator's
 * `POST /v1/certificates` (the real CA service and issuance plugin, in this process) with
 * per-workload token files, as `meshlet local` does: A → B over mTLS, B STRICT, and B's
 * `/certs` shows the identity the operator bound to B's token.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { createLogger } from '../../common/log.ts';
import { DirectoryCaStore } from '../../operator/ca/dir-store.ts';
import { certificatesPlugin } from '../../operator/ca/issuance.ts';
import { issueOperatorServingCert } from '../../operator/ca/operator-cert.ts';
import { startCaService, type CaService } from '../../operator/ca/service.ts';
import { FileTokenVerifier } from '../../operator/ca/token-verifier.ts';
import { tempDir, TD } from '../security/helpers.ts';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from '../proxy/helpers/snapshot.ts';
import { startEcho, type EchoReply, type Upstream } from '../proxy/helpers/upstream.ts';

const BLOCK = 72;
const B_ID = 'spiffe://cluster.local/ns/b/sa/db';

describe('proxies with operator-issued certificates (token files)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let svc: CaService;
  let operator: FastifyInstance;
  let app: Upstream;
  let a: ProxyProcess, b: ProxyProcess;

  before(async () => {
    tmp = tempDir('proxy-opcerts');
    for (const [ns, sa, tok] of [['a', 'web', 'tok-a-web'], ['b', 'db', 'tok-b-db']] as const) {
      mkdirSync(join(tmp.dir, 'tokens', ns), { recursive: true });
      writeFileSync(join(tmp.dir, 'tokens', ns, `${sa}.token`), tok);
    }
    svc = await startCaService({ store: new DirectoryCaStore(join(tmp.dir, 'ca')), verifier: new FileTokenVerifier(join(tmp.dir, 'tokens')), trustDomain: TD, log: createLogger({ component: 'operator', level: 'silent' }) });
    const serving = await issueOperatorServingCert(svc.ca, { hosts: ['127.0.0.1'] });
    operator = Fastify({ https: { key: serving.keyPem, cert: serving.certChainPem } } as never) as unknown as FastifyInstance;
    await operator.register(certificatesPlugin, svc.issuance);
    await operator.listen({ host: '127.0.0.1', port: 0 });
    const url = `https://127.0.0.1:${(operator.server.address() as { port: number }).port}`;
    const root = join(tmp.dir, 'root.pem');
    writeFileSync(root, svc.ca.rootCertPem);
    const certArgs = (ns: string, sa: string) => ['--ca-url', url, '--ca-file', root, '--token-file', join(tmp.dir, 'tokens', ns, `${sa}.token`)];
    app = await startEcho('app', allocAddress(BLOCK));
    const bSnap = snapshot('b1', { listeners: [listener(8080, { direction: 'inbound', appPort: app.port })] });
    bSnap.proxy = { ...bSnap.proxy, namespace: 'b', workload: 'db', serviceAccount: 'db', spiffeId: B_ID };
    bSnap.security.peerAuthentication.mode = 'STRICT';
    b = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: bSnap, args: ['--app-host', app.address, ...certArgs('b', 'db')] });
    const C = 'outbound|8080||db.b.svc.cluster.local';
    const c = cluster(C, [{ address: b.bind, port: b.ports.inbound }], { tls: { mode: 'AUTO' } });
    c.set.endpoints[0]!.identity = B_ID;
    const aSnap = snapshot('a1', { listeners: [listener(8080, { routeTable: '8080' })], tables: [table('8080', [{ domains: ['db', 'db:8080'], routes: [route('db', [], forward(C))] }])], clusters: [c] });
    a = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: aSnap, args: certArgs('a', 'web') });
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await app?.close();
    svc?.stop();
    await operator?.close();
    tmp?.cleanup();
  });

  it('A → B over mTLS with issued certs; the app sees A\'s SPIFFE ID', async () => {
    const r = await request(`http://${a.bind}:${a.ports.outbound}/x`, { headers: { host: 'db:8080' } });
    assert.equal(r.statusCode, 200);
    const e = (await r.body.json()) as EchoReply;
    assert.match(String(e.headers['x-forwarded-client-cert']), /URI=spiffe:\/\/cluster\.local\/ns\/a\/sa\/web/);
  });

  it('B STRICT refuses plaintext; B\'s /certs and /config_dump show the issued identity, no key', async () => {
    await assert.rejects(request(`http://${b.bind}:${b.ports.inbound}/x`, { headers: { host: 'db' } }));
    const certs = await (await request(`http://${b.bind}:${b.ports.admin}/certs`)).body.text();
    assert.match(certs, /ns\/b\/sa\/db/);
    assert.doesNotMatch(certs, /PRIVATE KEY/);
    const dump = JSON.parse(await (await request(`http://${b.bind}:${b.ports.admin}/config_dump`)).body.text()) as { secrets: unknown[] };
    assert.ok(dump.secrets.length >= 2, 'workload cert and root');
    assert.doesNotMatch(JSON.stringify(dump), /PRIVATE KEY/);
  });
});
