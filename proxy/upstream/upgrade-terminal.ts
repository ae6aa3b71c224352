/**
 * The terminal of the upgrade chain (WebSocket): pick an endpoint, replay the request head
 * on a new connection, relay the upstream's response head through the sink (so features
 * see the status), then splice the two sockets. Istio enables upgrades on every route.
 */
import type { Random } from '../balancer/types.ts';
import { hash32 } from '../balancer/hash.ts';
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

/** `pools` dials the endpoint (mesh mTLS when the cluster's transport says so). */
export function upgradeTerminal(random: Random, pools: PoolRegistry = new PoolRegistry()): Handler {
  return (ctx) => {
    const { socket: client, head } = ctx.upgrade!;
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
        // Not upgraded: relay what is left of the response, then close.
        up.pipe(client);
        return;
      }
      client.pipe(up);
      up.pipe(client);
      client.resume();
    };
    up.once(ready, () => {
      up.setNoDelay(true);
      up.write(requestHead(ctx));
      if (head.length > 0) up.write(head);
      up.on('data', onHead);
    });
    up.once('error', (err) => {
      if (!started) ctx.sink.fail({ flag: 'UF', code: 'MESHLET_PROXY_UPSTREAM_CONNECT', status: 503, cause: err }, false);
      else client.destroy();
    });
    up.once('close', () => {
      if (started) {
        ctx.sink.end(undefined);
        client.destroy();
      }
    });
    client.once('close', () => up.destroy());
  };
}
