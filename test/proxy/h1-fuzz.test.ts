/**
 * The HTTP/1.1 codec against a reference parse: 100,000 generated requests (well-formed,
 * pipelined, and mutated into the smuggling shapes: CL+TE, duplicate or odd Content-Length,
 * obfuscated Transfer-Encoding, bare LF/CR, obs-fold, bad chunk sizes…), each fed to a real
 * H1ServerConn in random byte splits, and to llhttp (Node's own strict parser, the one
 * node:http used before) in one piece. The codec must never crash, never accept what llhttp
 * refuses, and every request it passes on must be exactly the one llhttp read (method, target,
 * headers, body). Where the codec is stricter than llhttp, the reason must be one of the
 * documented extra refusals.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { H1ServerConn, type ConnRegistry, type RequestEntry } from '../../proxy/h1/server-conn.ts';
import type { H1Request } from '../../proxy/h1/server-request.ts';
import type { H1Response } from '../../proxy/h1/server-response.ts';

const require = createRequire(import.meta.url);
// llhttp as Node binds it (internal but stable for years): the reference parser.
interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(b: Buffer): number | Error;
  finish(): unknown;
  free?(): void;
  [k: number]: unknown;
}
const { HTTPParser, methods } = require('_http_common') as {
  HTTPParser: { new (): LlhttpParser; REQUEST: number; kLenientNone: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number };
  methods: string[];
};

const CASES = Number(process.env.H1_FUZZ_CASES ?? 100_000);
/** Another stream of cases (the default run is fixed, so a failure replays). */
const SEED = Number(process.env.H1_FUZZ_SEED ?? 0);

/** Refusals the codec makes where llhttp accepts: each is a documented choice (proxy/h1/head-parse.ts). */
const STRICTER = /^(duplicate host|invalid chunk size|invalid content-length|empty request target|malformed request line|request line without HTTP version|duplicate content-length|unsupported transfer-encoding|unknown method|invalid chunk extension|invalid header value|invalid request target|bare LF|bare CR or LF|control byte or bare CR or LF|CONNECT)/;

interface Msg {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
  /** The whole body was read (false: the input ended inside it). */
  complete: boolean;
}

/** Seeded xorshift: a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function referenceParse(bytes: Buffer): { msgs: Msg[]; error: boolean } {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 60 * 1024, HTTPParser.kLenientNone);
  const msgs: Msg[] = [];
  let cur: Msg | undefined;
  let pending: string[] = [];
  let upgrade = false;
  let pendingUrl = '';
  parser[HTTPParser.kOnHeaders] = (h: string[], url: string) => {
    // While a message is open these are its trailers, which are not compared.
    if (cur !== undefined) return;
    pending = pending.concat(h);
    pendingUrl += url;
  };
  parser[HTTPParser.kOnHeadersComplete] = (_ma: number, _mi: number, h: string[] | undefined, method: number, url: string | undefined, _s: unknown, _m: unknown, up: boolean) => {
    const all = pending.concat(h ?? []);
    pending = [];
    const fullUrl = pendingUrl + (url ?? '');
    pendingUrl = '';
    const headers: [string, string][] = [];
    for (let i = 0; i < all.length; i += 2) headers.push([all[i]!, all[i + 1]!]);
    cur = { method: methods[method]!, url: fullUrl, headers, body: '', complete: false };
    msgs.push(cur);
    if (up) upgrade = true;
    return 0;
  };
  parser[HTTPParser.kOnBody] = (b: Buffer) => {
    cur!.body += b.toString('latin1');
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    cur!.complete = true;
    cur = undefined;
  };
  const r = parser.execute(bytes);
  parser.finish();
  parser.free?.();
  return { msgs, error: r instanceof Error || upgrade };
}

/** Just enough of a net.Socket for H1ServerConn, fed by hand so byte splits are exact. */
class FakeSocket extends EventEmitter {
  written = '';
  writable = true;
  destroyed = false;
  bytesWritten = 0;
  paused = false;
  setNoDelay(): this {
    return this;
  }
  write(d: string | Buffer): boolean {
    this.written += typeof d === 'string' ? d : d.toString('latin1');
    this.bytesWritten += d.length;
    return true;
  }
  cork(): void {}
  uncork(): void {}
  end(d?: string): this {
    if (d !== undefined) this.write(d);
    this.writable = false;
    return this;
  }
  destroySoon(): void {
    this.destroy();
  }
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.writable = false;
    queueMicrotask(() => this.emit('close'));
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  isPaused(): boolean {
    return this.paused;
  }
}

const registry: ConnRegistry = { now: 0, remove: () => undefined };

async function codecParse(bytes: Buffer, random: () => number): Promise<{ msgs: Msg[]; refused: string | undefined }> {
  const msgs: Msg[] = [];
  let refused: string | undefined;
  const entry: RequestEntry = {
    request(req: H1Request, res: H1Response) {
      const m: Msg = { method: req.method, url: req.url, headers: [], body: '', complete: false };
      for (const k in req.headers) {
        const v = req.headers[k]!;
        m.headers.push([k, Array.isArray(v) ? v.join('\u0000') : v]);
      }
      msgs.push(m);
      req.on('data', (c: Buffer) => (m.body += c.toString('latin1')));
      req.on('error', () => undefined);
      req.on('end', () => {
        m.complete = true;
        res.end('ok');
      });
    },
    upgrade() {
      refused = 'upgrade';
    },
    refused(_status, reason) {
      refused ??= reason;
    },
  };
  const sock = new FakeSocket();
  new H1ServerConn(sock as unknown as Socket, entry, { headersTimeoutMs: 1e9, keepAliveTimeoutMs: 1e9 }, registry);
  let i = 0;
  while (i < bytes.length && !sock.destroyed) {
    const n = 1 + Math.floor(random() * Math.min(64, bytes.length - i));
    sock.emit('data', bytes.subarray(i, i + n));
    i += n;
    // Let body streams flow between pieces, as the event loop would.
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  return { msgs, refused };
}

const sorted = (h: [string, string][]): [string, string][] => [...h].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

/** What llhttp's raw headers become under the codec's joining rules (Node's IncomingMessage rules). */
function normalize(headers: [string, string][]): [string, string][] {
  const single = new Set(['age', 'authorization', 'content-type', 'etag', 'expires', 'from', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent', 'host']);
  const out = new Map<string, string>();
  for (const [k0, v] of headers) {
    const k = k0.toLowerCase();
    const cur = out.get(k);
    if (cur === undefined) out.set(k, v);
    else if (k === 'set-cookie') out.set(k, `${cur}\u0000${v}`);
    else if (!single.has(k)) out.set(k, `${cur}${k === 'cookie' ? '; ' : ', '}${v}`);
  }
  return [...out];
}

// ---- generator ----
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'GETT', 'get', 'CONNECT'];
const PATHS = ['/', '/a/b?c=d', '/x%20y', 'http://svc:9080/abs', '*', '/p?q=1&r=2#f', '/\u00e9'];
const TE = ['chunked', 'Chunked', ' chunked', 'chunked ', 'chunked, gzip', 'gzip, chunked', 'xchunked', 'chunked\t', 'identity', 'chunked,chunked'];

function chunkedBody(r: () => number, body: string): string {
  let out = '';
  let i = 0;
  while (i < body.length) {
    const n = 1 + Math.floor(r() * 7);
    const piece = body.slice(i, i + n);
    const ext = r() < 0.1 ? ';a=b' : r() < 0.05 ? ';x="q"' : '';
    out += `${piece.length.toString(16)}${ext}\r\n${piece}\r\n`;
    i += n;
  }
  return `${out}0\r\n${r() < 0.2 ? 'X-Trailer: t\r\n' : ''}\r\n`;
}

function wellFormed(r: () => number): string {
  const method = r() < 0.8 ? (r() < 0.5 ? 'GET' : 'POST') : METHODS[Math.floor(r() * METHODS.length)]!;
  const path = PATHS[Math.floor(r() * PATHS.length)]!;
  const lines = [`${method} ${path} HTTP/1.${r() < 0.9 ? 1 : 0}`, 'Host: svc:9080'];
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) lines.push(`X-H${Math.floor(r() * 3)}: v${i}${r() < 0.1 ? ' \t' : ''}`);
  if (r() < 0.1) lines.push('Cookie: a=1', 'Cookie: b=2');
  if (r() < 0.1) lines.push('Set-Cookie: s=1', 'Set-Cookie: s=2');
  let body = '';
  const bodyText = 'hello world, a body'.slice(0, Math.floor(r() * 19));
  const kind = method === 'GET' || method === 'HEAD' ? r() < 0.8 ? 'none' : 'cl' : r() < 0.5 ? 'cl' : r() < 0.8 ? 'chunked' : 'none';
  if (kind === 'cl') {
    lines.push(`Content-Length: ${bodyText.length}`);
    body = bodyText;
  } else if (kind === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    body = chunkedBody(r, bodyText);
  }
  if (r() < 0.05) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

function mutate(r: () => number, s: string): string {
  const pick = Math.floor(r() * 16);
  const at = Math.floor(r() * s.length);
  switch (pick) {
    case 0: return s.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(at);
    case 1: return s.slice(0, at) + s.slice(at + 1);
    case 2: return s.replace('\r\n', '\n');
    case 3: return s.replace(/\r\n(?=[^\r])/, '\r\n Folded: x\r\n');
    case 4: return s.replace('Host: svc:9080', 'Host: svc:9080\r\nHost: evil:80');
    case 5: return s.replace('\r\n\r\n', '\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n');
    case 6: return s.replace('\r\n\r\n', `\r\nTransfer-Encoding: ${TE[Math.floor(r() * TE.length)]}\r\n\r\n`);
    case 7: return s.replace('\r\n\r\n', `\r\nContent-Length: ${['1', '01', '+1', '-1', '1 1', '0x1', '99999999999999999999', ''][Math.floor(r() * 8)]}\r\n\r\n`);
    case 8: return s.replace('\r\n\r\n', '\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n');
    case 9: return s.replace(': ', ' : ');
    case 10: return s.replace(/\r\n([0-9a-f]+)\r\n/, `\r\n${['zz', '-1', 'fffffffffffffffff', '1 ', ' 1', '1;', '1;=x'][Math.floor(r() * 7)]}\r\n`);
    case 11: return s.replace(' HTTP/1.1', r() < 0.5 ? '' : ' HTTP/1.2');
    case 12: return s.replace('\r\n', '\r\r\n');
    case 13: return s.slice(0, at) + '\r\n' + s.slice(at);
    case 14: return s.replace('X-H', 'X H');
    default: return s.replace('\r\n\r\n', '\r\nX-Bad: a\u0000b\r\n\r\n');
  }
}

describe('HTTP/1.1 codec fuzz against llhttp', () => {
  it(`parses ${CASES} generated requests in random splits exactly as the reference, or refuses them`, { timeout: 600_000 }, async () => {
    const stats = { accepted: 0, refusedBoth: 0, stricter: new Map<string, number>() };
    for (let seed = 1; seed <= CASES; seed++) {
      const r = rng((seed + SEED) * 2654435761);
      let text = wellFormed(r);
      const pipelined = r() < 0.2;
      if (pipelined) text += wellFormed(r);
      const mutations = r() < 0.5 ? 0 : 1 + Math.floor(r() * 2);
      for (let m = 0; m < mutations; m++) text = mutate(r, text);
      const bytes = Buffer.from(text, 'latin1');
      const ref = referenceParse(bytes);
      const ours = await codecParse(bytes, r);
      const why = `seed ${seed}: ${JSON.stringify(text)}`;
      // Every request the codec passed on is the one llhttp read, in order; a body the codec
      // read to its end, llhttp read to the same end.
      for (let i = 0; i < ours.msgs.length; i++) {
        const o = ours.msgs[i]!;
        const e = ref.msgs[i];
        assert.ok(e !== undefined, `codec passed on a request llhttp never started: ${why}`);
        assert.equal(o.method, e.method, why);
        assert.equal(o.url, e.url, why);
        // Order across different names carries no meaning (and integer-like names sort first in a JS object).
        assert.deepEqual(sorted(o.headers), sorted(normalize(e.headers)), why);
        if (o.complete) {
          assert.ok(e.complete, `codec completed a body llhttp did not: ${why}`);
          assert.equal(o.body, e.body, why);
        } else assert.ok(e.body.startsWith(o.body), `codec passed on body bytes llhttp did not read: ${why}`);
      }
      const refDone = ref.msgs.filter((m) => m.complete).length;
      const oursDone = ours.msgs.filter((m) => m.complete).length;
      if (ours.refused === undefined) {
        // Fewer only when the codec closed the connection first (HTTP/1.0, Connection: close).
        assert.ok(oursDone <= refDone, `codec completed more requests than llhttp: ${why}`);
        stats.accepted++;
      } else if (!ref.error) {
        assert.match(ours.refused, STRICTER, `codec refused what llhttp accepts, for an undocumented reason: ${why}`);
        const k = ours.refused.split(":")[0]!;
        if (process.env.H1_FUZZ_SHOW === k) console.log(why);
        stats.stricter.set(k, (stats.stricter.get(k) ?? 0) + 1);
      } else stats.refusedBoth++;
    }
    // The generator must exercise both sides, or the comparison proves nothing.
    assert.ok(stats.accepted > CASES / 4, JSON.stringify(stats));
    assert.ok(stats.refusedBoth > CASES / 10, JSON.stringify(stats));
    console.log(`h1 fuzz: ${JSON.stringify({ ...stats, stricter: Object.fromEntries(stats.stricter) })}`);
  });
});
