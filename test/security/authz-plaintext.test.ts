/**
 * AuthorizationPolicy in a real `meshlet proxy` that has no workload certificate (plaintext
 * only): policies are enforced all the same, with an empty source principal, as Istio does.
 * HTTP per request (DENY beats ALLOW, a principals-only ALLOW never matches plaintext,
 * `notPrincipals: ["*"]` matches it), TCP per connection, client-sent XFCC removed, and the
 * denials counted on the stats port.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { request } from 'undici';
import type { AuthzPolicy, AuthzRule, ProxySnapshot } from '../../common/snapshot.ts';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { listener, snapshot } from '../proxy/helpers/snapshot.ts';
import { startEcho, type EchoReply, type Upstream } from '../proxy/helpers/upstream.ts';

const BLOCK = 91;

function pol(name: string, action: AuthzPolicy['action'], rules: Partial<AuthzRule>[]): AuthzPolicy {
  return { name: `b/${name}`, action, rules: rules.map((r) => ({ from: [], to: [], when: [], ...r })), provenance: { kind: 'AuthorizationPolicy', namespace: 'b', name } };
}

function serverSnapshot(version: string, l: ReturnType<typeof listener>, authorization: AuthzPolicy[]): ProxySnapshot {
  const s = snapshot(version, { listeners: [l] });
  s.proxy = { id: 'db-1.b', namespace: 'b', workload: 'db', serviceAccount: 'db', labels: { app: 'db' }, ip: '127.0.0.1', spiffeId: 'spiffe://cluster.local/ns/b/sa/db' };
  s.security = { peerAuthentication: { mode: 'PERMISSIVE', ports: {}, provenance: { kind: 'PeerAuthentication', namespace: 'b', name: 'default' } }, authorization };
  s.telemetry = { metrics: true, accessLog: false, tracing: { samplingPercent: 0 } };
  return s;
}

/** A TCP app that records what it reads and answers `ok`. */
async function startTcpApp(address: string): Promise<{ port: number; received: string[]; close(): Promise<void> }> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.on('data', (d: Buffer) => {
      received.push(d.toString());
      s.end('ok');
    });
  });
  server.listen(0, address);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port, received,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Sends one line from `localAddress`; returns what came back before the proxy or app closed. */
async function tcpExchange(host: string, port: number, localAddress: string, line: string): Promise<string> {
  const s = connect({ host, port, localAddress });
  let got = '';
  s.on('data', (d: Buffer) => (got += d.toString()));
  // A denied connection may end in a reset: that is a close too.
  s.on('error', () => undefined);
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.once('connect', () => s.write(line));
  await closed;
  return got;
}

describe('AuthorizationPolicy in a proxy without a workload certificate', () => {
  let app: Upstream;
  let tcpApp: Awaited<ReturnType<typeof startTcpApp>>;
  let http: ProxyProcess;
  let tcp: ProxyProcess;
  const clientOk = allocAddress(BLOCK);
  const clientOther = allocAddress(BLOCK);

  before(async () => {
    app = await startEcho('app', allocAddress(BLOCK));
    tcpApp = await startTcpApp(app.address);
    http = await startProxyProcess({
      bind: allocAddress(BLOCK),
      snapshot: serverSnapshot('h1', listener(8080, { direction: 'inbound', appPort: app.port }), [
        pol('deny-path', 'DENY', [{ to: [{ paths: ['/deny'] }] }]),
        pol('deny-plaintext', 'DENY', [{ from: [{ notPrincipals: ['*'] }], to: [{ paths: ['/internal'] }] }]),
        pol('allow-open', 'ALLOW', [{ to: [{ paths: ['/open', '/deny', '/internal'] }] }]),
        pol('allow-web', 'ALLOW', [{ from: [{ principals: ['cluster.local/ns/a/sa/web'] }] }]),
      ]),
      args: ['--app-host', app.address],
    });
    tcp = await startProxyProcess({
      bind: allocAddress(BLOCK),
      snapshot: serverSnapshot('t1', listener(9000, { direction: 'inbound', protocol: 'tcp', appPort: tcpApp.port }), [
        pol('allow-ip', 'ALLOW', [{ from: [{ ipBlocks: [`${clientOk}/32`] }] }]),
        pol('allow-web', 'ALLOW', [{ from: [{ principals: ['cluster.local/ns/a/sa/web'] }] }]),
      ]),
      args: ['--app-host', app.address],
    });
  });

  after(async () => {
    await Promise.all([http?.stop(), tcp?.stop()]);
    await app?.close();
    await tcpApp?.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await request(`http://${http.bind}:${http.ports.inbound}${path}`, { headers: { host: 'db', ...headers } });
    return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
  };

  it('HTTP: an allowed path reaches the app, without the client-sent XFCC', async () => {
    const r = await get('/open', { 'x-forwarded-client-cert': 'By=forged;URI=spiffe://cluster.local/ns/a/sa/web' });
    assert.equal(r.status, 200);
    const e = JSON.parse(r.body) as EchoReply;
    assert.equal(e.url, '/open');
    assert.equal(e.headers['x-forwarded-client-cert'], undefined, 'client-sent XFCC is removed');
  });

  it('HTTP: DENY beats ALLOW (403 RBAC), principals-only ALLOW and notPrincipals DENY see an empty principal; none reaches the app', async () => {
    const seen = app.seen.length;
    for (const path of ['/deny', '/secure', '/internal']) {
      const r = await get(path);
      assert.equal(r.status, 403, path);
      assert.equal(r.body.trim(), 'RBAC: access denied', path);
      assert.equal(r.headers['x-meshlet-flags'], 'RBAC', path);
      assert.equal(r.headers['x-meshlet-error'], 'MESHLET_SECURITY_RBAC_DENIED', path);
    }
    // A forged XFCC naming the allowed principal does not make the caller that principal.
    assert.equal((await get('/secure', { 'x-forwarded-client-cert': 'By=x;URI=spiffe://cluster.local/ns/a/sa/web' })).status, 403);
    assert.deepEqual(app.seen.slice(seen).map((e) => e.url), []);
  });

  it('HTTP: denials are counted by deciding policy and seen by the Istio metrics', async () => {
    const text = await (await request(`http://${http.bind}:${http.ports.stats}/stats/prometheus`)).body.text();
    const lines = text.split('\n');
    assert.ok(lines.some((l) => l.startsWith('meshlet_rbac_denied_total{') && l.includes('policy_name="deny-path"') && l.includes('reason="denied"')), 'DENY counted');
    assert.ok(lines.some((l) => l.startsWith('meshlet_rbac_denied_total{') && l.includes('policy_name="deny-plaintext"')), 'notPrincipals DENY counted');
    assert.ok(lines.some((l) => l.startsWith('meshlet_rbac_denied_total{') && l.includes('reason="no-allow-match"')), 'principals-only ALLOW miss counted');
    assert.ok(lines.some((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="403"') && l.includes('response_flags="RBAC"')), '403 RBAC in istio_requests_total');
  });

  it('TCP: authorized per connection; a caller no ALLOW matches is closed before the app reads a byte', async () => {
    assert.equal(await tcpExchange(tcp.bind, tcp.ports.inbound, clientOk, 'from-ok'), 'ok');
    assert.equal(await tcpExchange(tcp.bind, tcp.ports.inbound, clientOther, 'from-other'), '');
    assert.deepEqual(tcpApp.received, ['from-ok']);
  });
});
