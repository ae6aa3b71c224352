/**
 * Bad input never crashes the proxy and gets the right status: malformed request line or
 * headers → 400, headers over 60 KiB → 431 (under → forwarded), Content-Length with
 * Transfer-Encoding → 400, invalid chunked body → 400, slowloris → 408 and closed,
 * and 1,000 seeded random malformed requests → no crash, the next good request succeeds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { allocAddress } from './helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';
import { seededRandom } from '../../common/clock.ts';

/** Sends raw bytes, half-closes, and returns everything the proxy answered until it closed (bounded). */
function raw(host: string, port: number, data: string | Buffer, opts: { end?: boolean; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let out = '';
    const timer = setTimeout(() => s.destroy(), opts.timeoutMs ?? 3_000);
    s.on('data', (c) => (out += c.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.write(data);
    if (opts.end !== false) s.end();
  });
}

const statusOf = (resp: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(resp)?.[1] ?? 0);

describe('proxy bad input (real process)', () => {
  let upstream: Server;
  let proxy: ProxyProcess;
  const up = allocAddress(64);

  before(async () => {
    upstream = createServer({ maxHeaderSize: 128 * 1024 }, (req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => upstream.listen(0, up, r));
    const port = (upstream.address() as AddressInfo).port;
    const C = 'outbound|9080||svc.default.svc.cluster.local';
    const snap = snapshot('bad-1', {
      listeners: [listener(9080, { routeTable: '9080' })],
      tables: [table('9080', [{ domains: ['*'], routes: [route('all', [], forward(C))] }])],
      clusters: [cluster(C, [{ address: up, port }])],
    });
    proxy = await startProxyProcess({ bind: allocAddress(64), snapshot: snap, args: ['--headers-timeout-ms', '500'] });
  });

  after(async () => {
    await proxy?.stop();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
  });

  const send = (data: string | Buffer, opts?: { end?: boolean; timeoutMs?: number }) => raw(proxy.bind, proxy.ports.outbound, data, opts);
  const good = 'GET /ok HTTP/1.1\r\nHost: svc:9080\r\nConnection: close\r\n\r\n';

  it('answers a good request (baseline)', async () => {
    assert.equal(statusOf(await send(good)), 200);
  });

  it('answers 400 to malformed request lines and headers', async () => {
    for (const bad of ['GET / HTTP/1.1 extra\r\nHost: svc:9080\r\n\r\n', 'GET /\x01x HTTP/1.1\r\nHost: svc:9080\r\n\r\n', 'GET / HTTP/1.1\r\nHost: svc:9080\r\nBad Header\r\n\r\n', 'GET / HTTP/1.1\r\nHost: svc:9080\r\nX-A: \x00\r\n\r\n', 'hello world\r\n\r\n']) {
      const resp = await send(bad);
      assert.equal(statusOf(resp), 400, JSON.stringify(bad));
      assert.match(resp, /x-meshlet-error: MESHLET_PROXY_BAD_REQUEST/);
    }
  });

  it('forwards headers up to 60 KiB and answers 431 above', async () => {
    const under = `GET /big HTTP/1.1\r\nHost: svc:9080\r\nX-Big: ${'a'.repeat(59 * 1024)}\r\nConnection: close\r\n\r\n`;
    assert.equal(statusOf(await send(under)), 200);
    const over = `GET /big HTTP/1.1\r\nHost: svc:9080\r\nX-Big: ${'a'.repeat(61 * 1024)}\r\n\r\n`;
    const resp = await send(over);
    assert.equal(statusOf(resp), 431);
    assert.match(resp, /x-meshlet-error: MESHLET_PROXY_HEADERS_TOO_LARGE/);
  });

  it('answers 400 to duplicate Host headers and to request lines without an HTTP version (RFC 9112)', async () => {
    for (const bad of ['GET / HTTP/1.1\r\nHost: svc:9080\r\nHost: evil:80\r\n\r\n', 'GET /\r\nHost: svc:9080\r\n\r\n', 'GET / HTTP/1.1\r\nHost: svc:9080\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n', 'GET :/x HTTP/1.1\r\nHost: svc:9080\r\n\r\n']) {
      const resp = await send(bad);
      assert.equal(statusOf(resp), 400, JSON.stringify(bad));
      assert.match(resp, /x-meshlet-error: MESHLET_PROXY_BAD_REQUEST/);
    }
  });

  it('refuses Content-Length together with Transfer-Encoding (smuggling) with 400', async () => {
    const smuggle = 'POST / HTTP/1.1\r\nHost: svc:9080\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: svc:9080\r\n\r\n';
    assert.equal(statusOf(await send(smuggle)), 400);
  });

  it('refuses an invalid chunked body with 400', async () => {
    const chunked = 'POST /c HTTP/1.1\r\nHost: svc:9080\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n';
    assert.equal(statusOf(await send(chunked)), 400);
  });

  it('times out a slowloris client (408, connection closed)', async () => {
    const s = connect({ host: proxy.bind, port: proxy.ports.outbound });
    let out = '';
    let closed = false;
    s.on('data', (c) => (out += c.toString()));
    s.on('error', () => undefined);
    s.on('close', () => (closed = true));
    s.write('GET /slow HTTP/1.1\r\nHost: svc:9080\r\n');
    // One header line every 100 ms, never finishing; the proxy must give up (headers timeout 500 ms).
    for (let i = 0; i < 60 && !closed; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (!closed) s.write(`X-Slow-${i}: x\r\n`);
    }
    s.destroy();
    assert.ok(closed, 'the proxy kept a slowloris connection open for 6 s');
    assert.equal(statusOf(out), 408);
  });

  it('survives 1,000 random malformed requests and then serves a good one', { timeout: 180_000 }, async () => {
    const rnd = seededRandom(1234);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const base = Buffer.from('POST /fuzz?a=1 HTTP/1.1\r\nHost: svc:9080\r\nContent-Length: 4\r\nX-Test: yes\r\n\r\nbody');
    const mutate = (): Buffer => {
      const b = Buffer.from(base);
      switch (Math.floor(rnd() * 5)) {
        case 0: // random byte flips
          for (let i = 0; i < 1 + rnd() * 8; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
          return b;
        case 1: // truncation
          return b.subarray(0, Math.floor(rnd() * b.length));
        case 2: // injected control characters
          return Buffer.concat([b.subarray(0, 20), Buffer.from(pick(['\r', '\n', '\0', '\r\n\r\n', ' \t', '\x7f'])), b.subarray(20)]);
        case 3: // pure garbage
          return Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)));
        default: // bad framing headers
          return Buffer.from(`POST / HTTP/1.1\r\nHost: svc:9080\r\n${pick(['Content-Length: -1', 'Content-Length: 1, 2', 'Transfer-Encoding: gzip, chunked, x', 'Content-Length: 99999999999999999999', 'Transfer-Encoding: chunked\r\n\r\nfffffffffffffff'])}\r\n\r\n`);
      }
    };
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 1000) {
        next++;
        const st = statusOf(await send(mutate(), { timeoutMs: 2_000 }));
        statuses.set(st, (statuses.get(st) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    assert.equal(proxy.child.exitCode, null, 'proxy process exited');
    assert.equal(proxy.child.signalCode, null);
    assert.equal(statusOf(await send(good)), 200);
    assert.ok(![...statuses.keys()].some((s) => s >= 500 && s !== 503), `unexpected 5xx: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(400) ?? 0) >= 300, `the fuzz should mostly hit the parser: ${JSON.stringify([...statuses])}`);
  });
});
