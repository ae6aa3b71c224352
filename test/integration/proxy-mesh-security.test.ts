/**
 * Security and telemetry in the real `meshlet proxy`: client sidecar A → server sidecars B
 * (STRICT, with an AuthorizationPolicy) and P (PERMISSIVE) → a real app. Workload certs are
 * issued by the real CertificateAuthority (operator/ca) and handed to the proxies as files.
 * A originates mTLS on its own (auto mTLS: the endpoints carry `identity`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import type { AuthzPolicy, ProxySnapshot } from '../../common/snapshot.ts';
import { issue, tempDir, testCa } from '../security/helpers.ts';
import { startReceiver, type Receiver } from '../telemetry/harness/otlp-receiver.ts';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from '../proxy/helpers/snapshot.ts';
import { startEcho, type EchoReply, type Upstream } from '../proxy/helpers/upstream.ts';

const A_ID = 'spiffe://cluster.local/ns/a/sa/web';
const B_ID = 'spiffe://cluster.local/ns/b/sa/db';
const BLOCK = 71;

function identify(s: ProxySnapshot, ns: string, sa: string, workload: string): ProxySnapshot {
  s.proxy = { id: `${workload}-1.${ns}`, namespace: ns, workload, serviceAccount: sa, labels: { app: workload, version: 'v1' }, ip: '127.0.0.1', spiffeId: `spiffe://cluster.local/ns/${ns}/sa/${sa}` };
  return s;
}

const allowGetFromA: AuthzPolicy = {
  name: 'b/allow-web-get', action: 'ALLOW', provenance: { kind: 'AuthorizationPolicy', namespace: 'b', name: 'allow-web-get' },
  rules: [{ from: [{ principals: ['cluster.local/ns/a/sa/web'] }], to: [{ methods: ['GET'] }], when: [] }],
};

describe('mesh security and telemetry across two real proxies', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: Upstream;
  let rx: Receiver;
  let a: ProxyProcess, b: ProxyProcess, p: ProxyProcess;

  before(async () => {
    tmp = tempDir('proxy-mesh');
    const ca = await testCa(join(tmp.dir, 'ca'));
    const files = async (name: string, ns: string, sa: string): Promise<string[]> => {
      const c = await issue(ca, ns, sa);
      const paths = ['crt', 'key', 'root'].map((x) => join(tmp.dir, `${name}.${x}`));
      writeFileSync(paths[0]!, c.certChainPem);
      writeFileSync(paths[1]!, c.keyPem);
      writeFileSync(paths[2]!, c.rootCertPem);
      return ['--cert-file', paths[0]!, '--key-file', paths[1]!, '--root-file', paths[2]!];
    };
    app = await startEcho('app', allocAddress(BLOCK));
    rx = await startReceiver(allocAddress(BLOCK));
    const telemetry = { metrics: true, accessLog: true, tracing: { samplingPercent: 100, otlpEndpoint: rx.url } };
    const server = (version: string, mode: 'STRICT' | 'PERMISSIVE', authorization: AuthzPolicy[]): ProxySnapshot => {
      const s = identify(snapshot(version, { listeners: [listener(8080, { direction: 'inbound', appPort: app.port })] }), 'b', 'db', 'db');
      s.security = { peerAuthentication: { mode, ports: {}, provenance: { kind: 'PeerAuthentication', namespace: 'b', name: 'default' } }, authorization };
      s.telemetry = telemetry;
      return s;
    };
    const bArgs = await files('b', 'b', 'db');
    b = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: server('b1', 'STRICT', [allowGetFromA]), args: ['--app-host', app.address, ...bArgs] });
    p = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: server('p1', 'PERMISSIVE', []), args: ['--app-host', app.address, ...bArgs] });
    const wl = { name: 'db', namespace: 'b', app: 'db', version: 'v1' };
    const S = 'outbound|8080||strict.b.svc.cluster.local';
    const P = 'outbound|8080||perm.b.svc.cluster.local';
    const W = 'outbound|8080||wrong.b.svc.cluster.local';
    const ep = (px: ProxyProcess) => ({ address: px.bind, port: px.ports.inbound });
    const clusters = [cluster(S, [ep(b)], { tls: { mode: 'AUTO' } }), cluster(P, [ep(p)], { tls: { mode: 'AUTO' } }), cluster(W, [ep(b)], { tls: { mode: 'AUTO' } })];
    // Endpoint identity and workload as the operator's translation sets them; W expects another identity.
    for (const c of clusters) for (const e of c.set.endpoints) Object.assign(e, { identity: c.cluster.name === W ? 'spiffe://cluster.local/ns/b/sa/other' : B_ID, workload: wl });
    const host = (n: string) => ({ domains: [n, `${n}:8080`], routes: [route(n, [], forward(`outbound|8080||${n}.b.svc.cluster.local`))] });
    const aSnap = identify(snapshot('a1', { listeners: [listener(8080, { routeTable: '8080' })], tables: [table('8080', [host('strict'), host('perm'), host('wrong')])], clusters }), 'a', 'web', 'web');
    aSnap.telemetry = telemetry;
    a = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: aSnap, args: [...(await files('a', 'a', 'web'))] });
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), p?.stop()]);
    await app?.close();
    await rx?.close();
    tmp?.cleanup();
  });

  const viaA = (host: string, method = 'GET', headers: Record<string, string> = {}) =>
    request(`http://${a.bind}:${a.ports.outbound}/items`, { method, headers: { host: `${host}:8080`, ...headers } });

  it('A → B is mTLS automatically: the app sees x-forwarded-client-cert with A\'s SPIFFE ID', async () => {
    const r = await viaA('strict', 'GET', { 'x-forwarded-client-cert': 'By=forged;URI=spiffe://cluster.local/ns/evil/sa/x' });
    assert.equal(r.statusCode, 200);
    const e = (await r.body.json()) as EchoReply;
    const xfcc = String(e.headers['x-forwarded-client-cert']);
    assert.match(xfcc, new RegExp(`URI=${A_ID}`));
    assert.match(xfcc, new RegExp(`By=${B_ID}`));
    assert.doesNotMatch(xfcc, /evil/, 'a client-sent XFCC is replaced');
  });

  it('B STRICT refuses a plaintext client; nothing reaches the app', async () => {
    const before = app.seen.length;
    await assert.rejects(request(`http://${b.bind}:${b.ports.inbound}/direct`, { headers: { host: 'db' } }));
    assert.equal(app.seen.length, before);
  });

  it('PERMISSIVE accepts plaintext and mTLS on the same port', async () => {
    const plain = await request(`http://${p.bind}:${p.ports.inbound}/plain`, { headers: { host: 'db' } });
    assert.equal(plain.statusCode, 200);
    const pe = (await plain.body.json()) as EchoReply;
    assert.equal(pe.headers['x-forwarded-client-cert'], undefined);
    const m = await viaA('perm');
    assert.equal(m.statusCode, 200);
    const me = (await m.body.json()) as EchoReply;
    assert.match(String(me.headers['x-forwarded-client-cert']), new RegExp(`URI=${A_ID}`));
  });

  it('A refuses a server presenting the wrong identity (UF)', async () => {
    const before = app.seen.length;
    const r = await viaA('wrong');
    await r.body.text();
    assert.equal(r.statusCode, 503);
    assert.match(String(r.headers['x-meshlet-flags']), /UF/);
    assert.equal(r.headers['x-meshlet-error'], 'MESHLET_SECURITY_PEER_IDENTITY');
    assert.equal(app.seen.length, before);
  });

  it('AuthorizationPolicy ALLOW GET from A: GET 200, POST 403 RBAC', async () => {
    const g = await viaA('strict');
    await g.body.text();
    assert.equal(g.statusCode, 200);
    const before = app.seen.length;
    const post = await viaA('strict', 'POST');
    assert.equal(post.statusCode, 403);
    assert.equal((await post.body.text()).trim(), 'RBAC: access denied');
    assert.match(String(post.headers['x-meshlet-flags']), /RBAC/);
    assert.equal(app.seen.length, before, 'a denied request never reaches the app');
  });

  it('both proxies report istio_requests_total with mutual_tls and the peer\'s workload', async () => {
    const stats = async (px: ProxyProcess) => (await (await request(`http://${px.bind}:${px.ports.stats}/stats/prometheus`)).body.text());
    const nr = await viaA('nope');
    await nr.body.text();
    assert.equal(nr.statusCode, 404);
    assert.ok((await stats(a)).split('\n').some((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="404"') && l.includes('response_flags="NR"') && l.includes('destination_service="unknown"')), 'a local 404 NR is counted');
    const src = (await stats(a)).split('\n').filter((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="source"') && l.includes('destination_service_name="strict"') && l.includes('response_code="200"'));
    assert.ok(src.length > 0, 'source-reported series for strict');
    // Istio's source reporter labels the policy "unknown"; the mTLS shows as the verified destination principal.
    assert.match(src[0]!, /connection_security_policy="unknown"/);
    assert.match(src[0]!, /destination_workload="db"/);
    assert.match(src[0]!, /destination_principal="spiffe:\/\/cluster\.local\/ns\/b\/sa\/db"/);
    const bText = await stats(b);
    const dst = bText.split('\n').filter((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="destination"') && l.includes('response_code="200"'));
    assert.ok(dst.length > 0, 'destination-reported series on B');
    assert.match(dst[0]!, /connection_security_policy="mutual_tls"/);
    assert.match(dst[0]!, /source_workload="web"/);
    assert.match(dst[0]!, /source_principal="spiffe:\/\/cluster\.local\/ns\/a\/sa\/web"/);
    assert.ok(bText.split('\n').some((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="403"') && l.includes('response_flags="RBAC"')), '403 RBAC counted');
    assert.match(bText, /meshlet_rbac_denied_total\{policy_namespace="",policy_name="",reason="[^"]+"\} [1-9]/);
    assert.match(bText, /meshlet_proxy_cert_expiry_seconds\{name="default"\} \d+/);
  });

  it('a traced request yields a CLIENT span from A and a SERVER span from B in one trace', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await viaA('strict', 'GET', { traceparent: `00-${trace}-00f067aa0ba902b7-01` });
    await r.body.text();
    assert.equal(r.statusCode, 200);
    const deadline = Date.now() + 15_000;
    const kinds = () => new Set(rx.spans.filter((s) => s.traceId === trace).map((s) => s.kind));
    while ((!kinds().has(2) || !kinds().has(3)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    assert.ok(kinds().has(3), 'CLIENT span');
    assert.ok(kinds().has(2), 'SERVER span');
  });

  it('writes an access log line with the peer principal; /certs shows the cert, never a key', async () => {
    const deadline = Date.now() + 10_000;
    const line = () => b.logs.map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } }).find((j) => j.direction === 'inbound' && j.response_code === 200 && j.peer_principal === A_ID);
    while (line() === undefined && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    assert.ok(line(), 'inbound access log line naming A');
    const certs = await (await request(`http://${b.bind}:${b.ports.admin}/certs`)).body.text();
    assert.match(certs, /default/);
    assert.match(certs, /db/);
    assert.doesNotMatch(certs, /PRIVATE KEY/);
  });
});
