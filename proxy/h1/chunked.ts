/**
 * Incremental decoder of a chunked body (RFC 9112 §7.1): bytes in, data slices and trailers
 * out through the sink, in any split. Strict: hex sizes only (at most 15 digits), chunk
 * extensions must be well-formed tokens, every line ends in CRLF, trailers are checked like
 * header fields.
 */
import { isToken, unsafeValue } from './chars.ts';
import { parseTrailerLines } from './trailers.ts';
import type { Headers } from './head-parse.ts';

export interface ChunkSink {
  /** A slice of body data (a view into the input). */
  onData(chunk: Buffer): void;
  onEnd(trailers: Headers | undefined): void;
}

const SIZE = 0;
const DATA = 1;
const DATA_CR = 2;
const DATA_LF = 3;
const TRAILER = 4;
const DONE = 5;

/** Longest size line (size, extensions) or trailer section accepted. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

export class ChunkedDecoder {
  #state = SIZE;
  #remaining = 0;
  /** Partial size line or trailer section carried between calls (latin1). */
  #line = '';
  readonly #sink: ChunkSink;
  constructor(sink: ChunkSink) {
    this.#sink = sink;
  }

  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Feeds bytes; returns how many were consumed (less than `buf.length` only once the body
   * is complete: the rest belongs to the next message), or an error string.
   */
  push(buf: Buffer): number | string {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      switch (this.#state) {
        case SIZE: {
          const lf = buf.indexOf(10, i);
          const end = lf === -1 ? n : lf + 1;
          this.#line += buf.toString('latin1', i, end);
          i = end;
          if (lf === -1) {
            if (this.#line.length > MAX_LINE) return 'chunk size line too long';
            break;
          }
          const err = this.#sizeLine();
          if (err !== undefined) return err;
          break;
        }
        case DATA: {
          const take = Math.min(this.#remaining, n - i);
          this.#sink.onData(buf.subarray(i, i + take));
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (buf[i++] !== 13) return 'chunk data not followed by CRLF';
          this.#state = DATA_LF;
          break;
        case DATA_LF:
          if (buf[i++] !== 10) return 'chunk data not followed by CRLF';
          this.#state = SIZE;
          break;
        case TRAILER: {
          const lf = buf.indexOf(10, i);
          const end = lf === -1 ? n : lf + 1;
          this.#line += buf.toString('latin1', i, end);
          i = end;
          if (this.#line.length > MAX_TRAILERS) return 'trailers too large';
          if (lf === -1) break;
          if (this.#line.endsWith('\r\n\r\n') || this.#line === '\r\n') {
            const err = this.#finish();
            if (err !== undefined) return err;
            return i;
          }
          if (this.#line.charCodeAt(this.#line.length - 2) !== 13) return 'bare LF in trailers';
          break;
        }
        default:
          return i;
      }
    }
    return i;
  }

  #sizeLine(): string | undefined {
    const line = this.#line;
    this.#line = '';
    if (line.length < 3 || line.charCodeAt(line.length - 2) !== 13) return 'bare LF in chunk size line';
    const body = line.slice(0, -2);
    const semi = body.indexOf(';');
    const hex = semi === -1 ? body : body.slice(0, semi);
    if (hex.length === 0 || hex.length > 15 || !/^[0-9a-fA-F]+$/.test(hex)) return 'invalid chunk size';
    if (semi !== -1 && !validExtensions(body.slice(semi))) return 'invalid chunk extension';
    const size = parseInt(hex, 16);
    if (size === 0) this.#state = TRAILER;
    else {
      this.#remaining = size;
      this.#state = DATA;
    }
    return undefined;
  }

  #finish(): string | undefined {
    const text = this.#line;
    this.#line = '';
    this.#state = DONE;
    if (text === '\r\n') {
      this.#sink.onEnd(undefined);
      return undefined;
    }
    const trailers = parseTrailerLines(text.slice(0, -4));
    if (typeof trailers === 'string') return trailers;
    this.#sink.onEnd(trailers);
    return undefined;
  }
}

/** `;name[=token|quoted]` repeated, optional whitespace around `;` (RFC 9112 §7.1.1). */
function validExtensions(ext: string): boolean {
  for (const part of ext.split(';').slice(1)) {
    const p = part.trim();
    const eq = p.indexOf('=');
    const name = eq === -1 ? p : p.slice(0, eq);
    if (!isToken(name, 0, name.length)) return false;
    if (eq === -1) continue;
    const v = p.slice(eq + 1);
    if (v.startsWith('"')) {
      if (v.length < 2 || !v.endsWith('"') || unsafeValue(v)) return false;
    } else if (!isToken(v, 0, v.length)) return false;
  }
  return true;
}
