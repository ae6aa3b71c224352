/**
 * Strict HTTP/1.1 head parsing (RFC 9112), pure: a request or response head as a latin1
 * string without its final CRLF CRLF in, a parsed head or the reason to refuse it out.
 * Whatever a lenient parser might read differently from the app behind the proxy is refused:
 * bare CR/LF, obs-fold, whitespace before the colon, controls in values, duplicate or
 * non-numeric Content-Length, Content-Length with Transfer-Encoding, any transfer coding but
 * a lone `chunked`, duplicate Host, request lines without an HTTP version.
 */
import { TARGET, isToken } from './chars.ts';

export type Headers = Record<string, string | string[]>;

/** Why a head was refused: a stable reason for logs and tests (the reply is always 400). */
export type HeadError = { error: string };

export interface RequestHead {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Lower-case names; duplicates joined like Node's IncomingMessage (set-cookie an array). */
  headers: Headers;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  /** `Connection: upgrade` with an `Upgrade` header. */
  upgrade: boolean;
  expectContinue: boolean;
}

export interface ResponseHead {
  status: number;
  minor: number;
  /** Lower-case names; duplicates as arrays (as undici gave them). */
  headers: Headers;
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'MKACTIVITY', 'CHECKOUT', 'MERGE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PURGE', 'LINK', 'UNLINK', 'QUERY', 'ACL', 'BIND', 'REBIND', 'UNBIND', 'MKCALENDAR']);

/** Headers whose later copies Node drops (RFC 9110 singletons); Host and Content-Length are refused instead. */
const SINGLE = new Set(['age', 'authorization', 'content-type', 'etag', 'expires', 'from', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);

const MAX_CONTENT_LENGTH_DIGITS = 15;
const ABSOLUTE = /^[a-zA-Z]+:\/\/[A-Za-z0-9._~%!$&'()*+,;=:@[\]-]+(?:[/?]|$)/;

function fail(error: string): HeadError {
  return { error };
}

/**
 * A control byte other than HTAB, or a CR or LF outside a CRLF pair, anywhere in a head: one
 * native regex scan instead of a check per byte in JavaScript.
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;

/** Splits `text` into lines on CRLF after the scan above; undefined refuses the head. */
function lines(text: string): string[] | undefined {
  return FORBIDDEN.test(text) ? undefined : text.split('\r\n');
}

function hasToken(list: string, token: string): boolean {
  const l = list.toLowerCase();
  if (l === token) return true;
  for (const part of l.split(',')) if (part.trim() === token) return true;
  return false;
}

interface FieldState {
  contentLength: number;
  te: string | undefined;
  connection: string;
  hosts: number;
  clCount: number;
}

/** Parses header lines from `from` on into `headers`; returns an error or undefined. */
function parseFields(ls: string[], from: number, headers: Headers, request: boolean, st: FieldState): HeadError | undefined {
  for (let i = from; i < ls.length; i++) {
    const line = ls[i]!;
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) return fail('obs-fold');
    const colon = line.indexOf(':');
    if (colon <= 0 || !isToken(line, 0, colon)) return fail('invalid header name');
    let s = colon + 1;
    let e = line.length;
    while (s < e && (line.charCodeAt(s) === 32 || line.charCodeAt(s) === 9)) s++;
    while (e > s && (line.charCodeAt(e - 1) === 32 || line.charCodeAt(e - 1) === 9)) e--;
    // Values need no scan of their own: FORBIDDEN already refused every control byte but HTAB.
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(s, e);
    switch (name) {
      case 'content-length': {
        st.clCount++;
        if (st.clCount > 1) return fail('duplicate content-length');
        if (value.length === 0 || value.length > MAX_CONTENT_LENGTH_DIGITS) return fail('invalid content-length');
        for (let j = 0; j < value.length; j++) {
          const d = value.charCodeAt(j);
          if (d < 48 || d > 57) return fail('invalid content-length');
        }
        st.contentLength = Number(value);
        break;
      }
      case 'transfer-encoding':
        // Tabs around a coding are how obfuscated TE slips past some parsers: refuse them.
        if (line.indexOf('\t', colon) !== -1) return fail('unsupported transfer-encoding');
        st.te = st.te === undefined ? value : `${st.te}, ${value}`;
        break;
      case 'connection':
        st.connection = st.connection === '' ? value : `${st.connection}, ${value}`;
        break;
      case 'host':
        st.hosts++;
        if (request && st.hosts > 1) return fail('duplicate host');
        break;
    }
    const cur = headers[name];
    if (cur === undefined) headers[name] = value;
    else if (!request) headers[name] = Array.isArray(cur) ? (cur.push(value), cur) : [cur, value];
    else if (name === 'set-cookie') headers[name] = Array.isArray(cur) ? (cur.push(value), cur) : [cur, value];
    else if (SINGLE.has(name) || name === 'host') continue;
    else headers[name] = `${cur as string}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return undefined;
}

/** The framing the fields give: refuses CL+TE and every coding but a lone chunked. */
function framing(st: FieldState): HeadError | { chunked: boolean } {
  if (st.te === undefined) return { chunked: false };
  if (st.clCount > 0) return fail('content-length with transfer-encoding');
  if (st.te.trim().toLowerCase() !== 'chunked') return fail('unsupported transfer-encoding');
  return { chunked: true };
}

function version(s: string): number {
  if (s === 'HTTP/1.1') return 1;
  if (s === 'HTTP/1.0') return 0;
  return -1;
}

export function parseRequestHead(text: string): RequestHead | HeadError {
  const ls = lines(text);
  if (ls === undefined) return fail('control byte or bare CR or LF');
  const first = ls[0]!;
  const sp1 = first.indexOf(' ');
  const sp2 = sp1 === -1 ? -1 : first.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 === -1) return fail('request line without HTTP version');
  if (first.indexOf(' ', sp2 + 1) !== -1) return fail('malformed request line');
  const method = first.slice(0, sp1);
  if (!METHODS.has(method)) return fail('unknown method');
  if (sp2 === sp1 + 1) return fail('empty request target');
  for (let j = sp1 + 1; j < sp2; j++) if (TARGET[first.charCodeAt(j)] !== 1) return fail('invalid request target');
  // origin-form, asterisk-form, or absolute-form (a proxy request); nothing else reaches routing.
  const t0 = first.charCodeAt(sp1 + 1);
  if (t0 !== 47 /* / */ && !(t0 === 42 /* * */ && sp2 === sp1 + 2) && !ABSOLUTE.test(first.slice(sp1 + 1, sp2))) return fail('invalid request target');
  const minor = version(first.slice(sp2 + 1));
  if (minor < 0) return fail('unsupported HTTP version');
  const f = fields(ls, true, minor);
  if ('error' in f) return f;
  const { headers, connection } = f;
  const expect = headers.expect;
  return {
    method,
    target: first.slice(sp1 + 1, sp2),
    minor,
    headers,
    contentLength: f.contentLength,
    chunked: f.chunked,
    keepAlive: f.keepAlive,
    upgrade: connection !== '' && headers.upgrade !== undefined && hasToken(connection, 'upgrade'),
    expectContinue: minor === 1 && typeof expect === 'string' && expect.toLowerCase() === '100-continue',
  };
}

/** The header section after the start line: fields, framing and persistence. */
function fields(ls: string[], request: boolean, minor: number): HeadError | { headers: Headers; contentLength: number; chunked: boolean; keepAlive: boolean; connection: string } {
  const headers: Headers = {};
  const st: FieldState = { contentLength: -1, te: undefined, connection: '', hosts: 0, clCount: 0 };
  const err = parseFields(ls, 1, headers, request, st);
  if (err !== undefined) return err;
  const fr = framing(st);
  if ('error' in fr) return fr;
  const conn = st.connection;
  const keepAlive = minor === 1 ? conn === '' || !hasToken(conn, 'close') : conn !== '' && hasToken(conn, 'keep-alive');
  return { headers, contentLength: fr.chunked ? -1 : st.contentLength, chunked: fr.chunked, keepAlive, connection: conn };
}

export function parseResponseHead(text: string): ResponseHead | HeadError {
  const ls = lines(text);
  if (ls === undefined) return fail('control byte or bare CR or LF');
  const first = ls[0]!;
  const minor = version(first.slice(0, 8));
  if (minor < 0 || first.charCodeAt(8) !== 32) return fail('malformed status line');
  const code = first.slice(9, 12);
  if (!/^[1-9]\d\d$/.test(code) || (first.length > 12 && first.charCodeAt(12) !== 32)) return fail('malformed status line');
  const f = fields(ls, false, minor);
  if ('error' in f) return f;
  return { status: Number(code), minor, headers: f.headers, contentLength: f.contentLength, chunked: f.chunked, keepAlive: f.keepAlive };
}
