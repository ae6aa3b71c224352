/** Header plumbing on the request path: hop-by-hop removal, x-forwarded-*, x-request-id, edits. */
import { randomUUID } from 'node:crypto';
import type { HeaderOps } from '../../common/snapshot.ts';
import type { CompiledHeaderOps, Headers } from '../chain/types.ts';

/** RFC 9110 §7.6.1 connection-specific headers plus the legacy ones proxies must drop. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization', 'http2-settings']);
/** Request-only: `expect: 100-continue` was already answered downstream (undici refuses to send it). */
const REQUEST_DROP = new Set([...HOP_BY_HOP, 'expect']);

/**
 * The header names a `Connection` header lists (lower-cased, RFC 9110 §7.6.1), which a proxy
 * drops with the hop-by-hop ones; undefined for none (the common `keep-alive` and `close`
 * skip the split). Several `Connection` lines are one comma-separated list.
 */
function connectionNamed(conn: string | string[] | undefined): Set<string> | undefined {
  if (conn === undefined || conn === '' || conn === 'keep-alive' || conn === 'close') return undefined;
  return new Set((typeof conn === 'string' ? conn : conn.join(',')).toLowerCase().split(',').map((s) => s.trim()));
}

/**
 * Copies downstream request headers for the upstream: drops hop-by-hop headers (and those
 * named in `Connection`) and HTTP/2 pseudo-headers, keeps `te: trailers` (gRPC needs it),
 * sets `host`, appends the peer to `x-forwarded-for`, sets `x-forwarded-proto` and mints
 * `x-request-id` when absent (Envoy's behaviour).
 */
export function upstreamHeaders(src: Record<string, string | string[] | undefined>, authority: string, remoteAddress: string, scheme: string): Headers {
  const out: Headers = {};
  const named = connectionNamed(src.connection);
  for (const k in src) {
    const v = src[k];
    if (v === undefined || k.charCodeAt(0) === 58 /* ':' */ || REQUEST_DROP.has(k) || named?.has(k) === true) continue;
    out[k] = v;
  }
  const te = src.te;
  if (typeof te === 'string' && te.toLowerCase().includes('trailers')) out.te = 'trailers';
  out.host = authority;
  const xff = src['x-forwarded-for'];
  out['x-forwarded-for'] = xff === undefined ? remoteAddress : `${Array.isArray(xff) ? xff.join(', ') : xff}, ${remoteAddress}`;
  if (src['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = scheme;
  if (src['x-request-id'] === undefined) out['x-request-id'] = randomUUID();
  return out;
}

/**
 * `h` without `name`, as a copy: `delete` would turn the object into a slow dictionary that
 * every later reader (and the head writer) pays for.
 */
export function withoutHeader(h: Headers, name: string): Headers {
  const out: Headers = {};
  for (const k in h) if (k !== name) out[k] = h[k]!;
  return out;
}

/**
 * An upstream response's headers without hop-by-hop ones. A copy, not `delete` in place:
 * deleting turns the object into a slow dictionary, which every later reader pays for.
 */
export function stripResponseHopByHop(h: Headers): Headers {
  const named = connectionNamed(h.connection);
  const out: Headers = {};
  for (const k in h) {
    if (HOP_BY_HOP.has(k) || named?.has(k) === true) continue;
    const v = h[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function compileHeaderOps(ops: HeaderOps | undefined): CompiledHeaderOps | undefined {
  if (ops === undefined) return undefined;
  const lower = (m: Record<string, string> | undefined): [string, string][] => Object.entries(m ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
  const c = { set: lower(ops.set), add: lower(ops.add), remove: (ops.remove ?? []).map((r) => r.toLowerCase()) };
  return c.set.length + c.add.length + c.remove.length === 0 ? undefined : c;
}

/** Applies edits in Envoy's order: set (overwrite), add (append), remove. */
export function applyHeaderOps(h: Headers, ops: CompiledHeaderOps): void {
  for (const [k, v] of ops.set) h[k] = v;
  for (const [k, v] of ops.add) {
    const cur = h[k];
    h[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  for (const k of ops.remove) delete h[k];
}
