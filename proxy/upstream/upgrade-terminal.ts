/**
 * The terminal of the upgrade chain (WebSocket): pick an endpoint, replay the request head
 * on a new connection, relay the upstream's response head through the sink (so features
 * see the status), then splice the two sockets. Istio enables upgrades on every route.
 */
import type { Random } from '../../common/clock.ts';
import { hash32 } from '../balancer/hash.ts';
import type { Socket } from 'node:net';
import type { Handler, Headers, RequestContext } from '../chain/types.ts';
import { PoolRegistry } from './pools.ts';

const MAX_HEAD = 64 * 1024;

/** Parses `HTTP/1.1 101 ...\r\nk: v\r\n...` (without the final blank line). */
function parseHead(text: string): { status: number; headers: Headers } | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (m === null) return undefined;
  const headers: Headers = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const k = line.slice(0, c).trim().toLowerCase();
    const v = line.slice(c + 1).trim();
    const cur = headers[k];
    headers[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return { status: Number(m[1]), headers };
}

function requestHead(ctx: RequestContext): string {
  const h = ctx.headers;
  let text = `${ctx.attrs.method} ${ctx.path} HTTP/1.1\r\n`;
  for (const k in h) {
    const v = h[k]!;
    if (Array.isArray(v)) for (const one of v) text += `${k}: ${one}\r\n`;
    else text += `${k}: ${v}\r\n`;
  }
  const up = ctx.req.headers.upgrade;
  return `${text}connection: Upgrade\r\nupgrade: ${typeof up === 'string' ? up : 'websocket'}\r\n\r\n`;
}

/**
 * Relays a non-101 answer to an upgrade request and closes both sides once its body is over
 * (by Content-Length; else when the app closes): the app may keep the connection alive, but
 * nothing more from this client may reach it.
 */
function relayThenClose(up: Socket, client: Socket, already: number, length: string | string[] | undefined): void {
  const total = typeof length === 'string' && /^\d+$/.test(length) ? Number(length) : undefined;
  const close = (): void => {
    up.destroy();
    client.end();
  };
  if (total !== undefined && already >= total) return close();
  let sent = already;
  up.on('data', (chunk: Buffer) => {
    if (total !== undefined && sent + chunk.length >= total) {
      client.write(chunk.subarray(0, total - sent));
      close();
      return;
    }
    sent += chunk.length;
    client.write(chunk);
  });
  up.once('end', close);
}

/** `pools` dials the endpoint (mesh mTLS when the cluster's transport says so). */
export function upgradeTerminal(random: Random, pools: PoolRegistry = new PoolRegistry()): Handler {
  return (ctx) => {
    const client = ctx.upgrade!.socket;
    const cl = ctx.destination!.cluster;
    const key = cl.hashKey?.(ctx);
    const ep = cl.balancer.pick(random, key === undefined ? undefined : hash32(key));
    if (ep === undefined) {
      ctx.sink.fail({ flag: 'UH', code: 'MESHLET_PROXY_NO_HEALTHY_UPSTREAM', status: 503 }, false);
      return;
    }
    ctx.endpoint = ep;
    const { socket: up, ready } = pools.dial(cl.cluster, ep, cl.localAddress);
    let started = false;
    let buf = '';
    const onHead = (chunk: Buffer): void => {
      buf += chunk.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > MAX_HEAD) up.destroy(new Error('upstream response head too large'));
        return;
      }
      up.removeListener('data', onHead);
      const parsed = parseHead(buf.slice(0, end));
      if (parsed === undefined) {
        up.destroy(new Error('malformed upstream response head'));
        return;
      }
      started = true;
      ctx.sink.start(parsed.status, parsed.headers);
      const rest = Buffer.from(buf.slice(end + 4), 'latin1');
      if (rest.length > 0) client.write(rest);
      if (parsed.status !== 101) {
        // Not upgraded: relay what is left of the response, then close both sides. The
        // client's later bytes are never forwarded: the app did not switch protocols and
        // would read them as HTTP requests no policy checked.
        relayThenClose(up, client, rest.length, parsed.headers['content-length']);
        return;
      }
      client.pipe(up);
      up.pipe(client);
      client.resume();
    };
    up.once(ready, () => {
      up.setNoDelay(true);
      // Only the request head: bytes past it are refused before the chain (handleUpgrade)
      // and the client socket stays paused until the app answers 101.
      up.write(requestHead(ctx));
      up.on('data', onHead);
    });
    up.once('error', (err) => {
      if (!started) ctx.sink.fail({ flag: 'UF', code: 'MESHLET_PROXY_UPSTREAM_CONNECT', status: 503, cause: err }, false);
      else client.destroy();
    });
    up.once('close', () => {
      if (started) {
        ctx.sink.end(undefined);
        // After the sink's end: let what was relayed reach the client first.
        client.destroySoon();
      }
    });
    client.once('close', () => up.destroy());
  };
}
