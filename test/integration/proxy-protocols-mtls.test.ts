/**
 * HTTP/2 (gRPC streaming with trailers) and WebSocket upgrades across two real proxies over
 * auto mTLS (B STRICT): the mesh TLS negotiates h2 by ALPN for HTTP/2 clusters; upgrades are
 * counted in istio_requests_total once the session ends.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect as h2connect, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { issue, tempDir, testCa } from '../security/helpers.ts';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { frame, grpcEchoServer, unframe } from '../proxy/helpers/grpc.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from '../proxy/helpers/snapshot.ts';
import { acceptEcho, wsClient } from '../proxy/helpers/ws.ts';

const BLOCK = 74;
const B_ID = 'spiffe://cluster.local/ns/b/sa/db';

describe('gRPC and WebSocket over auto mTLS between real proxies', () => {
  let tmp: ReturnType<typeof tempDir>;
  let grpcApp: Http2Server;
  let wsApp: Server;
  let a: ProxyProcess, bg: ProxyProcess, bw: ProxyProcess;

  before(async () => {
    tmp = tempDir('proxy-proto-mtls');
    const ca = await testCa(join(tmp.dir, 'ca'));
    const files = async (name: string, ns: string, sa: string): Promise<string[]> => {
      const c = await issue(ca, ns, sa);
      const p = (x: string) => join(tmp.dir, `${name}.${x}`);
      writeFileSync(p('crt'), c.certChainPem);
      writeFileSync(p('key'), c.keyPem);
      writeFileSync(p('root'), c.rootCertPem);
      return ['--cert-file', p('crt'), '--key-file', p('key'), '--root-file', p('root')];
    };
    const bArgs = await files('b', 'b', 'db');
    const appAddr = allocAddress(BLOCK);
    grpcApp = grpcEchoServer();
    await new Promise<void>((r) => grpcApp.listen(0, appAddr, r));
    wsApp = createServer((_req, res) => res.end('plain'));
    wsApp.on('upgrade', acceptEcho);
    await new Promise<void>((r) => wsApp.listen(0, appAddr, r));
    const telemetry = { metrics: true, accessLog: false, tracing: { samplingPercent: 0 } };
    const server = (v: string, port: number, protocol: 'grpc' | 'http', appPort: number): ProxySnapshot => {
      const s = snapshot(v, { listeners: [listener(port, { direction: 'inbound', protocol, appPort })] });
      s.proxy = { ...s.proxy, namespace: 'b', workload: 'db', serviceAccount: 'db', spiffeId: B_ID };
      s.security.peerAuthentication.mode = 'STRICT';
      s.telemetry = telemetry;
      return s;
    };
    bg = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: server('bg', 9090, 'grpc', (grpcApp.address() as AddressInfo).port), args: ['--app-host', appAddr, ...bArgs] });
    bw = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: server('bw', 8080, 'http', (wsApp.address() as AddressInfo).port), args: ['--app-host', appAddr, ...bArgs] });
    const G = 'outbound|9090||grpc.b.svc.cluster.local';
    const W = 'outbound|8080||ws.b.svc.cluster.local';
    const g = cluster(G, [{ address: bg.bind, port: bg.ports.inbound }], { protocol: 'grpc', tls: { mode: 'AUTO' } });
    const w = cluster(W, [{ address: bw.bind, port: bw.ports.inbound }], { tls: { mode: 'AUTO' } });
    for (const c of [g, w]) Object.assign(c.set.endpoints[0]!, { identity: B_ID, workload: { name: 'db', namespace: 'b', app: 'db' } });
    const aSnap = snapshot('a1', {
      listeners: [listener(9090, { routeTable: '9090', protocol: 'grpc' }), listener(8080, { routeTable: '8080' })],
      tables: [table('9090', [{ domains: ['grpc', 'grpc:9090'], routes: [route('grpc', [], forward(G))] }]), table('8080', [{ domains: ['ws', 'ws:8080'], routes: [route('ws', [], forward(W))] }])],
      clusters: [g, w],
    });
    aSnap.telemetry = telemetry;
    a = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: aSnap, args: await files('a', 'a', 'web') });
  });

  after(async () => {
    await Promise.all([a?.stop(), bg?.stop(), bw?.stop()]);
    grpcApp?.close();
    wsApp?.close();
    tmp?.cleanup();
  });

  it('gRPC streaming with trailers crosses the mTLS hop (h2 by ALPN)', async () => {
    const s = h2connect(`http://${a.bind}:${a.ports.outbound}`);
    try {
      const st = s.request({ ':method': 'POST', ':path': '/echo.Echo/Stream', ':authority': 'grpc:9090', 'content-type': 'application/grpc', te: 'trailers' });
      let trailers: IncomingHttpHeaders = {};
      let buf: Buffer = Buffer.alloc(0);
      const replies: string[] = [];
      st.on('trailers', (t) => (trailers = t));
      st.on('data', (c: Buffer) => {
        const r = unframe(Buffer.concat([buf, c]));
        buf = r.rest;
        replies.push(...r.messages);
      });
      const done = new Promise<void>((res, rej) => st.on('end', res).on('error', rej));
      st.write(frame('a'));
      st.write(frame('b'));
      st.end();
      await done;
      assert.deepEqual(replies, ['echo:a', 'echo:b']);
      assert.equal(trailers['grpc-status'], '0');
    } finally {
      s.close();
    }
    const text = await (await request(`http://${bg.bind}:${bg.ports.stats}/stats/prometheus`)).body.text();
    assert.ok(text.split('\n').some((l) => l.startsWith('istio_requests_total{') && l.includes('request_protocol="grpc"') && l.includes('connection_security_policy="mutual_tls"') && l.includes('grpc_response_status="0"')), 'gRPC over mTLS counted at B');
  });

  it('a WebSocket session crosses the mTLS hop and is counted as a 101', async () => {
    const ws = await wsClient(a.bind, a.ports.outbound, 'ws:8080', '/chat');
    try {
      assert.match(ws.status, /^HTTP\/1.1 101/);
      ws.send('hello');
      assert.equal(await ws.next(), 'echo:hello');
    } finally {
      ws.close();
    }
    const deadline = Date.now() + 5_000;
    const counted = async () => (await (await request(`http://${a.bind}:${a.ports.stats}/stats/prometheus`)).body.text()).split('\n').some((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="101"') && l.includes('destination_service_name="ws"'));
    let ok = await counted();
    while (!ok && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      ok = await counted();
    }
    assert.ok(ok, 'the upgrade is counted at A');
  });
});
