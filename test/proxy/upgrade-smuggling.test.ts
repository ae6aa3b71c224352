/**
 * Request smuggling behind an HTTP/1.1 Upgrade, through a real proxy process: bytes the client
 * sends after an upgrade request must never reach the app before it has switched protocols,
 * or the app parses them as a request that no route, policy or XFCC rewrite ever saw.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { allocAddress } from './helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';
import { startEcho, type Upstream } from './helpers/upstream.ts';

const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: app:9080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const HIDDEN = 'GET /hidden HTTP/1.1\r\nHost: app:9080\r\nx-forwarded-client-cert: By=spiffe://forged;URI=spiffe://cluster.local/ns/default/sa/admin\r\n\r\n';

/** Connects, writes, and collects everything until the proxy closes the connection (bounded). */
async function exchange(p: ProxyProcess, first: string, afterFirstReply?: string): Promise<{ text: string; closed: boolean }> {
  const sock: Socket = connect({ host: p.bind, port: p.ports.outbound });
  let text = '';
  let closed = false;
  sock.on('data', (c: Buffer) => (text += c.toString('latin1')));
  sock.on('error', () => undefined);
  const gone = new Promise<void>((r) => sock.once('close', () => ((closed = true), r())));
  await new Promise<void>((r) => sock.once('connect', r));
  sock.write(first);
  if (afterFirstReply !== undefined) {
    for (let i = 0; i < 200 && !text.includes('\r\n\r\n') && !closed; i++) await new Promise((r) => setTimeout(r, 10));
    if (!closed) sock.write(afterFirstReply);
  }
  await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
  sock.destroy();
  return { text, closed };
}

describe('upgrade smuggling (real proxy, app without WebSocket support)', () => {
  let app: Upstream;
  let proxy: ProxyProcess;

  before(async () => {
    // A plain HTTP app: it answers the upgrade request as an ordinary GET and keeps the
    // connection open, so anything forwarded behind it would be parsed as a second request.
    app = await startEcho('app', allocAddress(76));
    const C = 'outbound|9080||app.default.svc.cluster.local';
    const snap = snapshot('smuggle-1', {
      listeners: [listener(9080, { routeTable: 'app' })],
      tables: [table('app', [{ domains: ['*'], routes: [route('app-all', [], forward(C))] }])],
      clusters: [cluster(C, [{ address: app.address, port: app.port }])],
    });
    proxy = await startProxyProcess({ bind: allocAddress(76), snapshot: snap });
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
  });

  it('refuses a request pipelined in the same write as the upgrade with 400, and the app never sees it', async () => {
    const r = await exchange(proxy, UPGRADE + HIDDEN);
    assert.match(r.text, /^HTTP\/1\.1 400 /);
    assert.match(r.text, /x-meshlet-error: MESHLET_PROXY_UPGRADE_EARLY_DATA/);
    assert.match(r.text, /x-meshlet-flags: DPE/);
    assert.equal(r.closed, true, 'the connection is closed after the refusal');
    assert.deepEqual(app.seen.filter((s) => s.url === '/hidden'), []);
  });

  it('does not forward bytes sent after a refused upgrade (app answered 200, not 101)', async () => {
    const before = app.seen.length;
    const r = await exchange(proxy, UPGRADE, HIDDEN);
    assert.match(r.text, /^HTTP\/1\.1 200 /, 'the app answered the upgrade request as a plain GET');
    assert.equal(r.closed, true, 'the proxy closes the connection after a non-101 answer');
    const seen = app.seen.slice(before).map((s) => s.url);
    assert.deepEqual(seen, ['/ws'], 'only the upgrade request itself reached the app');
  });

  it('still upgrades and relays bytes sent after the 101', async () => {
    const held: { early: string; late: string; release?: () => void } = { early: '', late: '' };
    let upgraded = false;
    app.server.on('upgrade', (_req, socket: Socket) => {
      upgraded = true;
      let switched = false;
      socket.on('data', (c: Buffer) => (switched ? (held.late += c.toString()) : (held.early += c.toString())));
      socket.on('error', () => undefined);
      // Upgraded sockets leave the HTTP server's bookkeeping: close them on the proxy's close.
      socket.on('end', () => socket.destroy());
      held.release = () => {
        switched = true;
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      };
    });
    const sock = connect({ host: proxy.bind, port: proxy.ports.outbound });
    let text = '';
    sock.on('data', (c: Buffer) => (text += c.toString('latin1')));
    await new Promise<void>((r) => sock.once('connect', r));
    sock.write(UPGRADE);
    for (let i = 0; i < 300 && held.release === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(upgraded, true, 'the app got the upgrade request');
    // Sent before the app switched protocols: held by the proxy, delivered only after the 101.
    sock.write('EARLY');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(held.early, '', 'nothing reached the app before it answered 101');
    held.release!();
    for (let i = 0; i < 300 && !held.late.includes('EARLY'); i++) await new Promise((r) => setTimeout(r, 10));
    sock.destroy();
    assert.match(text, /^HTTP\/1\.1 101 /);
    assert.equal(held.late, 'EARLY');
  });
});
