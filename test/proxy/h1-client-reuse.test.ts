/**
 * The proxy's HTTP/1.1 client against an app that drops a kept-alive connection when the next
 * request arrives on it (a keep-alive race every proxy meets: the app timed the connection
 * out just as the proxy reused it). A request without a body is sent again on a fresh
 * connection (the app never saw it answered); one with a body is not replayed (503 UC).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { allocAddress } from './helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';

describe('HTTP/1.1 client: a reused connection the app closed', () => {
  let app: Server;
  let proxy: ProxyProcess;
  const seen: string[] = [];
  let connections = 0;

  before(async () => {
    // Answers the first request of each connection (keep-alive) and closes the connection,
    // unanswered, when a second request arrives on it.
    app = createServer((s: Socket) => {
      connections++;
      let served = 0;
      let buf = '';
      s.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const line = buf.slice(0, buf.indexOf('\r\n'));
        const cl = /content-length: (\d+)/i.exec(buf.slice(0, end));
        if (cl !== null && buf.length < end + 4 + Number(cl[1])) return;
        buf = '';
        if (served++ > 0) {
          s.destroy();
          return;
        }
        seen.push(line);
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
      s.on('error', () => undefined);
    });
    const address = allocAddress(75);
    await new Promise<void>((r) => app.listen(0, address, r));
    const C = 'outbound|9080||app.default.svc.cluster.local';
    const snap = snapshot('reuse-1', {
      listeners: [listener(9080, { routeTable: 'app' })],
      tables: [table('app', [{ domains: ['*'], routes: [route('app-all', [], forward(C), { retries: { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retryRemoteLocalities: false, backoffBaseMs: 25 } })] }])],
      clusters: [cluster(C, [{ address, port: (app.address() as AddressInfo).port }])],
    });
    proxy = await startProxyProcess({ bind: allocAddress(75), snapshot: snap });
  });

  after(async () => {
    await proxy?.stop();
    app?.close();
  });

  const url = (p: string) => `http://${proxy.bind}:${proxy.ports.outbound}${p}`;

  it('sends a bodiless request again on a fresh connection: the client never sees the race', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await request(url(`/get${i}`), { headers: { host: 'app:9080' } });
      assert.equal(r.statusCode, 200, `request ${i}`);
      assert.equal(await r.body.text(), 'ok');
    }
    assert.deepEqual(seen.filter((l) => l.startsWith('GET /get')), ['GET /get0 HTTP/1.1', 'GET /get1 HTTP/1.1', 'GET /get2 HTTP/1.1', 'GET /get3 HTTP/1.1', 'GET /get4 HTTP/1.1']);
    assert.ok(connections >= 5, `each request after the first needed a fresh connection (${connections})`);
  });

  it('does not replay a request with a body: 503 UC, the app saw it once at most', async () => {
    const first = await request(url('/warm'), { headers: { host: 'app:9080' } });
    await first.body.dump();
    const r = await request(url('/post'), { method: 'POST', headers: { host: 'app:9080', 'content-type': 'text/plain' }, body: 'payload' });
    await r.body.dump();
    assert.equal(r.statusCode, 503);
    assert.equal(String(r.headers['x-meshlet-flags']).split(',')[0], 'UC');
    assert.equal(seen.filter((l) => l.startsWith('POST /post')).length, 0);
  });
});
