/**
 * "Why did it fail" three ways, through a real proxy with the access log on: the
 * `x-meshlet-flags` header, the access log's response_flags, and the per-cluster admin
 * stats. Also: a gRPC retry on grpc-status UNAVAILABLE, and the pool idle timeout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createH2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { connect as h2connect } from 'node:http2';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import type { ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';
import { clusterStatsOf, resilienceSnapshot, send, startTelemetryProxy } from './helpers.ts';

const U32 = 4294967295;

async function until<T>(get: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('response flags: header, access log, stats (real proxy process)', () => {
  let echo: Upstream;
  let staller: Upstream;
  let grpc: Http2Server;
  let grpcAddr = '';
  let grpcPort = 0;
  let grpcCalls = 0;
  const grpcBodies: string[] = [];
  let proxy: ProxyProcess;
  const echoSockets: Socket[] = [];
  const closedSockets: Socket[] = [];

  before(async () => {
    const block = 77;
    echo = await startEcho('echo', allocAddress(block));
    echo.server.on('connection', (s: Socket) => {
      echoSockets.push(s);
      s.once('close', () => closedSockets.push(s));
    });
    staller = await startEcho('staller', allocAddress(block), (req) => (req.resume(), true));
    grpc = createH2Server();
    grpc.on('stream', (s: ServerHttp2Stream) => {
      grpcCalls++;
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => grpcBodies.push(Buffer.concat(chunks).toString()));
      // First call: trailers-only UNAVAILABLE; then OK.
      if (grpcCalls === 1) s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' }, { endStream: true });
      else {
        s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        s.on('wantTrailers', () => s.sendTrailers({ 'grpc-status': '0' }));
        s.end();
      }
    });
    grpcAddr = allocAddress(block);
    await new Promise<void>((r) => grpc.listen(0, grpcAddr, r));
    grpcPort = (grpc.address() as AddressInfo).port;
    const dead = createServer();
    const deadAddr = allocAddress(block);
    await new Promise<void>((r) => dead.listen(0, deadAddr, r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const ep = (u: Upstream) => [{ address: u.address, port: u.port }];
    const snap = resilienceSnapshot('flags-1', [
      { host: 'refused', endpoints: [{ address: deadAddr, port: deadPort }], route: { retries: { attempts: 1, perTryTimeoutMs: 0, retryOn: ['connect-failure'], retryRemoteLocalities: false, backoffBaseMs: 25 } } },
      { host: 'abort', endpoints: ep(echo), route: { fault: { abort: { httpStatus: 503, percentage: 100 } } } },
      { host: 'slow', endpoints: ep(staller), route: { timeoutMs: 200 } },
      { host: 'idle', endpoints: ep(echo), cluster: { connectionPool: { maxConnections: U32, connectTimeoutMs: 2000, http1MaxPendingRequests: U32, http2MaxRequests: U32, maxRequestsPerConnection: 0, maxRetries: U32, idleTimeoutMs: 300, maxConcurrentStreams: 2147483647 } } },
      { host: 'grpc', endpoints: [{ address: grpcAddr, port: grpcPort }], protocol: 'grpc', route: { retries: { attempts: 2, perTryTimeoutMs: 0, retryOn: ['unavailable'], retryRemoteLocalities: false, backoffBaseMs: 25 } } },
    ]);
    snap.telemetry = { ...snap.telemetry, accessLog: true, metrics: true };
    proxy = await startTelemetryProxy(allocAddress(block), snap);
  });

  after(async () => {
    await proxy?.stop();
    await echo?.close();
    await staller?.close();
    await new Promise<void>((r) => grpc.close(() => r()));
  });

  const logLine = (authority: string): Promise<{ response_code: number; response_flags: string }> =>
    until(() => {
      for (const l of proxy.logs) {
        if (!l.includes('"response_flags"') || !l.includes(`"authority":"${authority}"`)) continue;
        return JSON.parse(l) as { response_code: number; response_flags: string };
      }
      return undefined;
    }, `access log line for ${authority}`);

  it('connect failure with retries exhausted: UF,URX in the header and the access log; counted in stats', async () => {
    const r = await send(proxy, 'refused');
    assert.equal(r.status, 503);
    assert.equal(r.flags, 'UF,URX');
    const l = await logLine('refused');
    assert.equal(l.response_code, 503);
    assert.equal(l.response_flags, 'UF,URX');
    const st = await clusterStatsOf(proxy, 'refused');
    assert.equal(st.upstream_cx_connect_fail, 2);
    assert.equal(st.upstream_rq_retry_limit_exceeded, 1);
  });

  it('the Istio request metric carries the same flags', async () => {
    const { request } = await import('undici');
    let text = '';
    for (let i = 0; i < 50 && !text.includes('response_flags="UF,URX"'); i++) {
      text = await (await request(`http://${proxy.bind}:${proxy.ports.stats}/stats/prometheus`)).body.text();
      if (!text.includes('response_flags="UF,URX"')) await new Promise((r) => setTimeout(r, 100));
    }
    const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{') && l.includes('response_flags="UF,URX"'));
    assert.ok(line !== undefined, 'istio_requests_total with response_flags="UF,URX"');
    assert.match(line, /response_code="503"/);
  });

  it('fault abort: FI in the header and the access log', async () => {
    const r = await send(proxy, 'abort');
    assert.equal(r.flags, 'FI');
    assert.equal((await logLine('abort')).response_flags, 'FI');
  });

  it('route timeout: UT in the header and the access log', async () => {
    const r = await send(proxy, 'slow');
    assert.equal(r.status, 504);
    assert.equal(r.flags, 'UT');
    const l = await logLine('slow');
    assert.equal(l.response_code, 504);
    assert.equal(l.response_flags, 'UT');
  });

  it('gRPC over HTTP/2: a trailers-only UNAVAILABLE is retried (retryOn unavailable) with its body replayed', async () => {
    const session = h2connect(`http://${proxy.bind}:${proxy.ports.outbound}`);
    try {
      const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': '/svc.S/M', ':authority': 'grpc', 'content-type': 'application/grpc', te: 'trailers' });
        s.on('trailers', (t) => resolve(t));
        s.on('error', reject);
        s.resume();
        s.end(Buffer.from('\u0000\u0000\u0000\u0000\u0005hello'));
      });
      assert.equal(trailers['grpc-status'], '0');
      assert.equal(grpcCalls, 2);
      await until(() => (grpcBodies.length === 2 ? true : undefined), 'both request bodies');
      assert.deepEqual(grpcBodies, ['\u0000\u0000\u0000\u0000\u0005hello', '\u0000\u0000\u0000\u0000\u0005hello'], 'the HTTP/2 request body was replayed on the retry');
    } finally {
      session.close();
    }
  });

  it('connectionPool idleTimeout: the proxy closes an idle upstream connection', async () => {
    const r = await send(proxy, 'idle');
    assert.equal(r.status, 200);
    const sock = echoSockets.at(-1)!;
    // The echo server keeps connections 60 s; only the proxy's 300 ms idle timeout closes it this soon.
    await until(() => (closedSockets.includes(sock) ? true : undefined), 'the idle upstream connection to close');
  });
});
