/**
 * The mesh path in local mode: app → client sidecar (outbound, routes by Host) → server
 * sidecar (inbound, forwards from 127.0.0.6) → app. Two real proxy processes; HTTP/1.1,
 * h2c and gRPC-shaped streaming all cross both hops.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as h2connect, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { allocAddress } from './helpers/addresses.ts';
import { frame, grpcEchoServer, unframe } from './helpers/grpc.ts';
import { startProxyProcess, type ProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';
import { startEcho, type EchoReply, type Upstream } from './helpers/upstream.ts';

describe('two chained proxies (client sidecar → server sidecar)', () => {
  let app: Upstream;
  let grpcApp: Http2Server;
  let server: ProxyProcess, grpcServer: ProxyProcess, client: ProxyProcess;

  before(async () => {
    app = await startEcho('app', allocAddress(67));
    const gAddr = allocAddress(67);
    grpcApp = grpcEchoServer();
    await new Promise<void>((r) => grpcApp.listen(0, gAddr, r));
    const gPort = (grpcApp.address() as AddressInfo).port;
    server = await startProxyProcess({ bind: allocAddress(67), snapshot: snapshot('srv', { listeners: [listener(8080, { direction: 'inbound', appPort: app.port })] }), args: ['--app-host', app.address] });
    grpcServer = await startProxyProcess({ bind: allocAddress(67), snapshot: snapshot('gsrv', { listeners: [listener(9090, { direction: 'inbound', protocol: 'grpc', appPort: gPort })] }), args: ['--app-host', gAddr] });
    const W = 'outbound|8080||web.default.svc.cluster.local';
    const G = 'outbound|9090||grpc.default.svc.cluster.local';
    client = await startProxyProcess({
      bind: allocAddress(67),
      snapshot: snapshot('cli', {
        listeners: [listener(8080, { routeTable: '8080' }), listener(9090, { routeTable: '9090', protocol: 'grpc' })],
        tables: [table('8080', [{ domains: ['web', 'web:8080'], routes: [route('web', [], forward(W))] }]), table('9090', [{ domains: ['grpc', 'grpc:9090'], routes: [route('grpc', [], forward(G))] }])],
        clusters: [cluster(W, [{ address: server.bind, port: server.ports.inbound }]), cluster(G, [{ address: grpcServer.bind, port: grpcServer.ports.inbound }], { protocol: 'grpc' })],
      }),
    });
  });

  after(async () => {
    await Promise.all([client?.stop(), server?.stop(), grpcServer?.stop()]);
    await app?.close();
    grpcApp?.close();
  });

  it('carries HTTP/1.1 across both hops; the app sees the server sidecar as 127.0.0.6', async () => {
    const r = await request(`http://${client.bind}:${client.ports.outbound}/hello?x=1`, { method: 'POST', body: 'payload', headers: { host: 'web:8080', 'x-request-id': 'fixed-id' } });
    assert.equal(r.statusCode, 200);
    const e = (await r.body.json()) as EchoReply;
    assert.equal(e.url, '/hello?x=1');
    assert.equal(e.body, 'payload');
    assert.equal(e.remote, '127.0.0.6');
    assert.equal(e.headers['x-request-id'], 'fixed-id', 'x-request-id is kept across hops');
    assert.equal(String(e.headers['x-forwarded-for']).split(',').length, 2, 'each hop appends its peer');
  });

  it('carries h2c from the app and gRPC streaming with trailers across both hops', async () => {
    const s = h2connect(`http://${client.bind}:${client.ports.outbound}`);
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
  });
});
