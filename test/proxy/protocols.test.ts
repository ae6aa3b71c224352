/**
 * Protocols through a real proxy process: HTTP/1.1 keep-alive, h2c downstream, HTTP/2 over
 * TLS upstream (ALPN), gRPC unary/streaming/trailers-only with grpc-status kept, WebSocket
 * echo, upstream failures (refused → 503 UF, closed before/mid response), and inbound
 * forwarding from 127.0.0.6 with TCP echo and a server-first protocol on a sniffed port.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as h2connect, createSecureServer, type Http2Server, type Http2SecureServer, type IncomingHttpHeaders } from 'node:http2';
import { createServer as createNetServer, connect, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { request as httpRequest } from 'node:http';
import { generate } from 'selfsigned';
import { allocAddress } from './helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';
import { startEcho, type EchoReply, type Upstream } from './helpers/upstream.ts';
import { frame, grpcEchoServer, unframe } from './helpers/grpc.ts';
import { acceptEcho, wsClient } from './helpers/ws.ts';

const listen = <S extends NetServer | Http2Server | Http2SecureServer>(s: S, address: string): Promise<number> =>
  new Promise((r) => s.listen(0, address, () => r((s.address() as AddressInfo).port)));

function simpleRoutes(name: string, cl: string) {
  return table(name, [{ domains: ['*'], routes: [route(`${name}-all`, [], forward(cl))] }]);
}

describe('proxy protocols (real processes)', () => {
  let echo: Upstream;
  let closer: Upstream;
  let grpc: Http2Server;
  let tlsH2: Http2SecureServer;
  let tcpApp: NetServer;
  let proxy: ProxyProcess;
  let inboundHttp: ProxyProcess;
  let inboundTcp: ProxyProcess;
  let dir: string;
  const addr = { grpc: allocAddress(62), tls: allocAddress(62), tcp: allocAddress(62) };
  const ports = { grpc: 0, tls: 0, tcp: 0, refused: 0 };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meshlet-proto-'));
    echo = await startEcho('h1', allocAddress(62));
    echo.server.on('upgrade', (req, socket: Socket) => acceptEcho(req, socket));
    closer = await startEcho('closer', allocAddress(62), (req, res) => {
      if (req.url === '/before') req.socket.destroy();
      else {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('0123456789');
        setTimeout(() => req.socket.destroy(), 20);
      }
      return true;
    });
    grpc = grpcEchoServer();
    ports.grpc = await listen(grpc, addr.grpc);
    const pems = await generate([{ name: 'commonName', value: 'upstream.test' }], { keySize: 2048, extensions: [{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'upstream.test' }] }] } as never);
    writeFileSync(join(dir, 'ca.pem'), pems.cert);
    tlsH2 = createSecureServer({ cert: pems.cert, key: pems.private, allowHTTP1: true }, (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`tls:${req.httpVersion}:${req.url}`);
    });
    ports.tls = await listen(tlsH2, addr.tls);
    tcpApp = createNetServer((s) => {
      s.write('220 banner\r\n');
      s.on('data', (c) => s.write(`echo:${c.toString()}|from:${s.remoteAddress}`));
      s.on('error', () => undefined);
    });
    ports.tcp = await listen(tcpApp, addr.tcp);
    const dead = createNetServer();
    ports.refused = await listen(dead, allocAddress(62));
    await new Promise<void>((r) => dead.close(() => r()));

    const ep = (address: string, port: number) => [{ address, port }];
    const H1 = 'outbound|9080||h1.default.svc.cluster.local';
    const G = 'outbound|9090||grpc.default.svc.cluster.local';
    const T = 'outbound|9443||tls.default.svc.cluster.local';
    const X = 'outbound|9100||closer.default.svc.cluster.local';
    const R = 'outbound|9101||refused.default.svc.cluster.local';
    const snap = snapshot('proto-1', {
      listeners: [
        listener(9080, { routeTable: 'h1' }),
        listener(9090, { routeTable: 'grpc', protocol: 'grpc' }),
        listener(9443, { routeTable: 'tls' }),
        listener(9100, { routeTable: 'closer' }),
        listener(9101, { routeTable: 'refused' }),
      ],
      tables: [simpleRoutes('h1', H1), simpleRoutes('grpc', G), simpleRoutes('tls', T), simpleRoutes('closer', X), simpleRoutes('refused', R)],
      clusters: [
        cluster(H1, ep(echo.address, echo.port)),
        cluster(G, ep(addr.grpc, ports.grpc), { protocol: 'grpc' }),
        cluster(T, ep(addr.tls, ports.tls), { protocol: 'http2', tls: { mode: 'SIMPLE', sni: 'upstream.test' } }),
        cluster(X, ep(closer.address, closer.port)),
        cluster(R, ep('127.0.0.1', ports.refused)),
      ],
    });
    proxy = await startProxyProcess({ bind: allocAddress(62), snapshot: snap, args: ['--upstream-ca', join(dir, 'ca.pem')] });
    const inHttp = snapshot('in-http', { listeners: [listener(8080, { direction: 'inbound', appPort: echo.port })] });
    inboundHttp = await startProxyProcess({ bind: allocAddress(62), snapshot: inHttp, args: ['--app-host', echo.address] });
    const inTcp = snapshot('in-tcp', { listeners: [listener(7000, { direction: 'inbound', protocol: 'auto', appPort: ports.tcp })] });
    inboundTcp = await startProxyProcess({ bind: allocAddress(62), snapshot: inTcp, args: ['--app-host', addr.tcp, '--sniff-timeout-ms', '100'] });
  });

  after(async () => {
    await Promise.all([proxy?.stop(), inboundHttp?.stop(), inboundTcp?.stop()]);
    await Promise.all([echo?.close(), closer?.close()]);
    grpc?.close();
    tlsH2?.close();
    tcpApp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = (p: ProxyProcess, path: string) => `http://${p.bind}:${p.ports.outbound}${path}`;

  it('keeps HTTP/1.1 connections alive on both sides', async () => {
    const sock = connect({ host: proxy.bind, port: proxy.ports.outbound });
    let data = '';
    sock.on('data', (c) => (data += c.toString()));
    for (let i = 0; i < 3; i++) sock.write(`GET /ka${i} HTTP/1.1\r\nHost: h1:9080\r\n\r\n`);
    for (let i = 0; i < 100 && (data.match(/HTTP\/1.1 200/g) ?? []).length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    sock.destroy();
    assert.equal((data.match(/HTTP\/1.1 200/g) ?? []).length, 3, 'three responses on one connection');
    const ports = new Set(echo.seen.filter((s) => s.url.startsWith('/ka')).map((s) => s.headers['x-request-id']));
    assert.equal(ports.size, 3);
  });

  it('answers Expect: 100-continue and streams the body upstream', async () => {
    const body = 'x'.repeat(5000);
    const res = await new Promise<{ status: number; text: string; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = httpRequest({ host: proxy.bind, port: proxy.ports.outbound, method: 'POST', path: '/expect', headers: { host: 'h1:9080', expect: '100-continue', 'content-length': body.length } });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('response', (r) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, text, continued }));
      });
      req.on('error', reject);
    });
    assert.equal(res.continued, true);
    assert.equal(res.status, 200);
    const e = JSON.parse(res.text) as EchoReply;
    assert.equal(e.body.length, 5000);
    assert.equal(e.headers.expect, undefined);
  });

  it('serves h2c downstream (prior knowledge) to an HTTP/1.1 upstream', async () => {
    const s = h2connect(`http://${proxy.bind}:${proxy.ports.outbound}`);
    try {
      const r = s.request({ ':path': '/h2?x=1', ':authority': 'h1:9080' });
      const [headers, body] = await new Promise<[IncomingHttpHeaders, string]>((res, rej) => {
        let h: IncomingHttpHeaders = {};
        let b = '';
        r.on('response', (x) => (h = x)).on('data', (c: Buffer) => (b += c.toString())).on('end', () => res([h, b])).on('error', rej);
      });
      assert.equal(headers[':status'], 200);
      const e = JSON.parse(body) as EchoReply;
      assert.equal(e.url, '/h2?x=1');
      assert.equal(e.headers.host, 'h1:9080');
    } finally {
      s.close();
    }
  });

  it('speaks HTTP/2 over TLS (ALPN h2) to a SIMPLE TLS upstream', async () => {
    const r = await request(url(proxy, '/secure'), { headers: { host: 'tls:9443' } });
    assert.equal(r.statusCode, 200, `flags ${String(r.headers['x-meshlet-flags'])}`);
    assert.equal(await r.body.text(), 'tls:2.0:/secure');
  });

  async function grpcCall(path: string, messages: string[], interactive: boolean): Promise<{ headers: IncomingHttpHeaders; replies: string[]; trailers: IncomingHttpHeaders }> {
    const s = h2connect(`http://${proxy.bind}:${proxy.ports.outbound}`);
    try {
      const st = s.request({ ':method': 'POST', ':path': path, ':authority': 'grpc:9090', 'content-type': 'application/grpc', te: 'trailers' });
      let headers: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders = {};
      const replies: string[] = [];
      let buf: Buffer = Buffer.alloc(0);
      let wake: (() => void) | undefined;
      st.on('response', (h) => (headers = h));
      st.on('trailers', (t) => (trailers = t));
      st.on('data', (c: Buffer) => {
        const r = unframe(Buffer.concat([buf, c]));
        buf = r.rest;
        replies.push(...r.messages);
        wake?.();
      });
      const ended = new Promise<void>((res, rej) => st.on('end', res).on('error', rej).on('close', res));
      for (const m of messages) {
        const want = replies.length + 1;
        st.write(frame(m));
        // Interactive: the next message goes out only after the echo came back (real streaming, not buffering).
        if (interactive) while (replies.length < want) await new Promise<void>((r) => (wake = r));
      }
      st.end();
      await ended;
      return { headers, replies, trailers };
    } finally {
      s.close();
    }
  }

  it('proxies gRPC bidirectional streaming with trailers and grpc-status kept', async () => {
    const r = await grpcCall('/echo.Echo/Stream', ['one', 'two', 'three'], true);
    assert.equal(r.headers[':status'], 200);
    assert.deepEqual(r.replies, ['echo:one', 'echo:two', 'echo:three']);
    assert.equal(r.trailers['grpc-status'], '0');
    assert.equal(r.trailers['x-trailer'], 'kept');
  });

  it('proxies gRPC unary and trailers-only errors', async () => {
    const u = await grpcCall('/echo.Echo/Unary', ['hi'], false);
    assert.deepEqual(u.replies, ['echo:hi']);
    assert.equal(u.trailers['grpc-status'], '0');
    const f = await grpcCall('/echo.Echo/Fail', [], false);
    assert.equal(f.headers['grpc-status'], '5');
    assert.equal(f.headers['grpc-message'], 'not found');
  });

  it('upgrades WebSocket connections and echoes frames both ways', async () => {
    const ws = await wsClient(proxy.bind, proxy.ports.outbound, 'h1:9080', '/chat');
    try {
      assert.match(ws.status, /^HTTP\/1.1 101/);
      assert.match(ws.status, /x-seen-path: \/chat/);
      ws.send('hello');
      assert.equal(await ws.next(), 'echo:hello');
      ws.send('again');
      assert.equal(await ws.next(), 'echo:again');
    } finally {
      ws.close();
    }
    // Upgrades run the route chain like any request: no route → a local 404 NR on the raw socket.
    const none = await wsClient(proxy.bind, proxy.ports.outbound, 'nowhere:7777', '/chat');
    none.close();
    assert.match(none.status, /^HTTP\/1.1 404/);
    assert.match(none.status, /x-meshlet-flags: NR/);
    assert.match(none.status, /x-meshlet-error: MESHLET_PROXY_NO_ROUTE/);
  });

  it('answers 503 UF when the endpoint refuses, 503 UC when it closes before responding', async () => {
    const refused = await request(url(proxy, '/'), { headers: { host: 'refused:9101' } });
    assert.equal(refused.statusCode, 503);
    // UF first; the retry feature (issue 8) appends URX once its attempts are exhausted.
    assert.equal(String(refused.headers['x-meshlet-flags']).split(',')[0], 'UF');
    assert.equal(refused.headers['x-meshlet-error'], 'MESHLET_PROXY_UPSTREAM_CONNECT');
    await refused.body.dump();
    const closed = await request(url(proxy, '/before'), { headers: { host: 'closer:9100' } });
    assert.equal(closed.statusCode, 503);
    assert.equal(String(closed.headers['x-meshlet-flags']).split(',')[0], 'UC');
    await closed.body.dump();
  });

  it('resets the downstream when the upstream closes mid-response, and keeps serving', async () => {
    const r = await request(url(proxy, '/mid'), { headers: { host: 'closer:9100' } });
    assert.equal(r.statusCode, 200);
    await assert.rejects(r.body.text(), 'a truncated body must be an error, not a short success');
    const ok = await request(url(proxy, '/after'), { headers: { host: 'h1:9080' } });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });

  it('survives clients that vanish mid-request-body and mid-response', async () => {
    for (let i = 0; i < 20; i++) {
      const s = connect({ host: proxy.bind, port: proxy.ports.outbound });
      s.on('error', () => undefined);
      await new Promise<void>((r) => s.once('connect', () => r()));
      if (i % 2 === 0) s.write('POST /upload HTTP/1.1\r\nHost: h1:9080\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      else s.write('GET /mid HTTP/1.1\r\nHost: closer:9100\r\n\r\n');
      await new Promise((r) => setTimeout(r, 10));
      s.destroy();
    }
    const ok = await request(url(proxy, '/still-alive'), { headers: { host: 'h1:9080' } });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    assert.equal(proxy.child.exitCode, null);
  });

  it('forwards inbound HTTP to the app from 127.0.0.6', async () => {
    const r = await request(`http://${inboundHttp.bind}:${inboundHttp.ports.inbound}/in`, { headers: { host: 'frontend:8080' } });
    assert.equal(r.statusCode, 200);
    const e = (await r.body.json()) as EchoReply;
    assert.equal(e.url, '/in');
    assert.equal(e.remote, '127.0.0.6');
  });

  it('passes inbound raw TCP through, including a server-first protocol on a sniffed port', async () => {
    const sock = connect({ host: inboundTcp.bind, port: inboundTcp.ports.inbound });
    let data = '';
    sock.on('data', (c) => (data += c.toString()));
    try {
      // The client sends nothing first: the proxy must give up sniffing and connect the app.
      for (let i = 0; i < 200 && !data.includes('220 banner'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(data, /^220 banner/);
      sock.write('ping');
      for (let i = 0; i < 200 && !data.includes('echo:ping'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(data, /echo:ping\|from:127\.0\.0\.6/);
    } finally {
      sock.destroy();
    }
  });
});
