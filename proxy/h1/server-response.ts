/**
 * The response side of the HTTP/1.1 codec: a DownstreamResponse that serializes the status
 * line and headers itself and frames the body (Content-Length as given, else chunked on
 * HTTP/1.1, else close-delimited). The head is held until the first body bytes or the end so
 * that a small response leaves in one write.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { DownstreamResponse, Headers } from '../chain/types.ts';
import { unsafeValue } from './chars.ts';

/** What the connection learns when a response is over (or the exchange broke). */
export interface ResponseOwner {
  responseDone(res: H1Response, reusable: boolean): void;
}

const CRLF = '\r\n';
/**
 * A head and a body chunk up to this size leave as one buffer in one write: cheaper than
 * corking two writes (Node's corked writes allocate a buffered entry per chunk and a writev).
 */
const COALESCE_MAX = 16 * 1024;

/** `head` (latin1, as the head is always written) then `chunk`, and a chunk's CRLF when asked. */
function joined(head: string, chunk: Buffer, crlf: boolean): Buffer {
  const buf = Buffer.allocUnsafe(head.length + chunk.length + (crlf ? 2 : 0));
  buf.write(head, 0, 'latin1');
  chunk.copy(buf, head.length);
  if (crlf) {
    buf[buf.length - 2] = 13;
    buf[buf.length - 1] = 10;
  }
  return buf;
}

export class H1Response implements DownstreamResponse {
  headersSent = false;
  destroyed = false;
  finished = false;
  readonly #socket: Socket;
  readonly #owner: ResponseOwner;
  /** HEAD request, or a status without a body (1xx, 204, 304). */
  #noBody: boolean;
  readonly #minor: number;
  /** The connection closes after this response (client asked, HTTP/1.0, or we must). */
  #close: boolean;
  #chunked = false;
  #pendingHead: string | undefined;
  #closeListeners: (() => void)[] | undefined;
  #drainListeners: (() => void)[] | undefined;
  #trailers: Record<string, string> | undefined;

  constructor(socket: Socket, owner: ResponseOwner, head: boolean, minor: number, close: boolean) {
    this.#socket = socket;
    this.#owner = owner;
    this.#noBody = head;
    this.#minor = minor;
    this.#close = close;
  }

  /** The connection must close after this response (set before the head is written). */
  closeAfter(): void {
    this.#close = true;
  }

  writeHead(status: number, headers: Headers): this {
    if (this.headersSent) throw Object.assign(new Error('headers already sent'), { code: 'ERR_HTTP_HEADERS_SENT' });
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) this.#noBody = true;
    let head = `HTTP/1.${this.#minor} ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let hasLength = false;
    for (const k in headers) {
      const v = headers[k]!;
      if (k === 'content-length') hasLength = true;
      if (typeof v === 'string') {
        if (unsafeValue(v)) throw Object.assign(new Error(`invalid character in header ${k}`), { code: 'ERR_INVALID_CHAR' });
        head += `${k}: ${v}\r\n`;
      } else {
        for (const one of v) {
          if (unsafeValue(one)) throw Object.assign(new Error(`invalid character in header ${k}`), { code: 'ERR_INVALID_CHAR' });
          head += `${k}: ${one}\r\n`;
        }
      }
    }
    if (!hasLength && !this.#noBody) {
      if (this.#minor === 1) {
        this.#chunked = true;
        head += 'transfer-encoding: chunked\r\n';
      } else this.#close = true;
    }
    if (this.#close) head += 'connection: close\r\n';
    else if (this.#minor === 0) head += 'connection: keep-alive\r\n';
    this.#pendingHead = head + CRLF;
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.destroyed) return false;
    const s = this.#socket;
    if (this.#noBody) {
      this.#flushHead();
      return true;
    }
    if (chunk.length === 0) return true;
    const head = this.#pendingHead;
    this.#pendingHead = undefined;
    if (this.#chunked) {
      const pre = `${head ?? ''}${chunk.length.toString(16)}\r\n`;
      if (chunk.length <= COALESCE_MAX) return s.write(joined(pre, chunk, true));
      s.cork();
      s.write(pre, 'latin1');
      s.write(chunk);
      const ok = s.write(CRLF, 'latin1');
      s.uncork();
      return ok;
    }
    if (head === undefined) return s.write(chunk);
    if (chunk.length <= COALESCE_MAX) return s.write(joined(head, chunk, false));
    s.cork();
    s.write(head, 'latin1');
    const ok = s.write(chunk);
    s.uncork();
    return ok;
  }

  end(chunk?: Buffer | string): this {
    if (this.finished || this.destroyed) return this;
    if (!this.headersSent) this.writeHead(200, {});
    if (chunk !== undefined && chunk.length > 0) {
      if (typeof chunk === 'string' && !this.#chunked && !this.#noBody) {
        // Local replies: head and body as one string, one write.
        const head = this.#pendingHead ?? '';
        this.#pendingHead = undefined;
        this.#socket.write(head + chunk, 'utf8');
      } else this.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    }
    if (this.#chunked) {
      let tail = '0\r\n';
      const t = this.#trailers;
      if (t !== undefined) for (const k in t) if (!unsafeValue(t[k]!)) tail += `${k}: ${t[k]!}\r\n`;
      this.#socket.write(`${this.#pendingHead ?? ''}${tail}\r\n`, 'latin1');
      this.#pendingHead = undefined;
    } else this.#flushHead();
    this.finished = true;
    this.#owner.responseDone(this, !this.#close);
    this.#emitClose();
    return this;
  }

  addTrailers(trailers: Record<string, string>): void {
    this.#trailers = this.#trailers === undefined ? trailers : { ...this.#trailers, ...trailers };
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#socket.destroy();
    if (!this.finished) this.#emitClose();
    return this;
  }

  once(event: 'drain' | 'close', cb: () => void): this {
    if (event === 'close') (this.#closeListeners ??= []).push(cb);
    else {
      const list = (this.#drainListeners ??= []);
      if (list.length === 0) this.#socket.once('drain', () => this.#drained());
      list.push(cb);
    }
    return this;
  }

  /** The client went away before the response was over. */
  socketClosed(): void {
    if (this.finished || this.destroyed) return;
    this.destroyed = true;
    this.#emitClose();
  }

  #drained(): void {
    const list = this.#drainListeners;
    this.#drainListeners = undefined;
    if (list !== undefined) for (const cb of list) cb();
  }

  #flushHead(): void {
    const head = this.#pendingHead;
    if (head === undefined) return;
    this.#pendingHead = undefined;
    this.#socket.write(head, 'latin1');
  }

  /** 'close' comes after the sink's end has run to completion, as with node:http. */
  #emitClose(): void {
    const list = this.#closeListeners;
    if (list === undefined) return;
    this.#closeListeners = undefined;
    queueMicrotask(() => {
      for (const cb of list) cb();
    });
  }
}
