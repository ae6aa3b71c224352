/**
 * One upstream HTTP/1.1 connection: writes a request (head, then the body as given by
 * Content-Length or re-chunked), parses the response strictly (head, then Content-Length,
 * chunked or close-delimited body) and calls the handler. One request at a time; back to the
 * pool when both directions are complete and the upstream keeps the connection alive.
 */
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { unsafeValue } from './chars.ts';
import { ChunkedDecoder, type ChunkSink } from './chunked.ts';
import { parseResponseHead, type Headers } from './head-parse.ts';
import type { H1Exchange } from './client-exchange.ts';

/** What a connection tells its pool. */
export interface ConnOwner {
  release(conn: H1ClientConn): void;
  gone(conn: H1ClientConn): void;
  /** A reused connection failed before any response byte: replay on a fresh one. */
  replay(ex: H1Exchange): void;
}

const MAX_RESPONSE_HEAD = 64 * 1024;
const NO_BODY = 0;
const LENGTH = 1;
const CHUNKED = 2;
const UNTIL_CLOSE = 3;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function codeError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export class H1ClientConn implements ChunkSink {
  readonly socket: Socket;
  /** Requests this connection has carried. */
  requests = 0;
  /** When an idle connection expires (performance.now() ms). */
  idleUntil = 0;
  /** The upstream's Keep-Alive hint (ms), when it gave one. */
  keepAliveHintMs = 0;
  #owner: ConnOwner;
  #ex: H1Exchange | undefined;
  #headBuf: Buffer | undefined;
  #mode = NO_BODY;
  #left = 0;
  #chunks: ChunkedDecoder | undefined;
  #reusable = false;
  #bodySent = true;
  #responseDone = true;
  #stash: Buffer | undefined;
  #closed = false;
  #inBody = false;
  #chunkedRequest = false;

  constructor(socket: Socket, owner: ConnOwner) {
    this.socket = socket;
    this.#owner = owner;
    socket.on('data', (c: Buffer) => this.#data(c));
    socket.on('end', () => this.#eof());
    socket.on('close', () => this.#gone(codeError('upstream connection closed', 'UND_ERR_SOCKET')));
    socket.on('error', (err: Error) => this.#gone(err));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get busy(): boolean {
    return this.#ex !== undefined;
  }

  destroy(): void {
    this.#closed = true;
    this.socket.destroy();
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    const s = this.#stash;
    if (s !== undefined) {
      this.#stash = undefined;
      this.#data(s);
      if (this.#ex?.paused === true) return;
    }
    this.socket.resume();
  }

  /** Writes the request; the response arrives through the socket's data events. */
  send(ex: H1Exchange): void {
    this.#ex = ex;
    ex.conn = this;
    this.requests++;
    this.#headBuf = undefined;
    this.#responseDone = false;
    this.#inBody = false;
    const o = ex.opts;
    let head = `${o.method} ${o.path} HTTP/1.1\r\n`;
    let hasLength = false;
    const h = o.headers;
    for (const k in h) {
      const v = h[k]!;
      if (k === 'content-length') hasLength = true;
      if (typeof v === 'string') {
        if (unsafeValue(v)) return ex.fail(codeError(`invalid character in request header ${k}`, 'UND_ERR_INVALID_ARG'));
        head += `${k}: ${v}\r\n`;
      } else {
        for (const one of v) {
          if (unsafeValue(one)) return ex.fail(codeError(`invalid character in request header ${k}`, 'UND_ERR_INVALID_ARG'));
          head += `${k}: ${one}\r\n`;
        }
      }
    }
    if (unsafeValue(o.path) || o.path.indexOf(' ') !== -1) return ex.fail(codeError('invalid request path', 'UND_ERR_INVALID_ARG'));
    const body = o.body;
    if (body === null) {
      if (!hasLength && BODY_METHODS.has(o.method)) head += 'content-length: 0\r\n';
      this.#bodySent = true;
      this.socket.write(`${head}\r\n`, 'latin1');
      return;
    }
    this.#bodySent = false;
    this.#chunkedRequest = !hasLength;
    if (this.#chunkedRequest) head += 'transfer-encoding: chunked\r\n';
    this.socket.write(`${head}\r\n`, 'latin1');
    this.#streamBody(ex, body);
  }

  #streamBody(ex: H1Exchange, body: NonNullable<H1Exchange['opts']['body']>): void {
    const s = this.socket;
    const chunked = this.#chunkedRequest;
    const onData = (c: Buffer): void => {
      if (ex.done && this.#ex !== ex) return;
      let ok: boolean;
      if (chunked) {
        if (c.length === 0) return;
        s.cork();
        s.write(`${c.length.toString(16)}\r\n`, 'latin1');
        s.write(c);
        ok = s.write('\r\n', 'latin1');
        s.uncork();
      } else ok = s.write(c);
      if (!ok) {
        body.pause();
        s.once('drain', () => body.resume());
      }
    };
    const onEnd = (): void => {
      cleanup();
      if (chunked && !this.#closed) s.write('0\r\n\r\n', 'latin1');
      this.#bodySent = true;
      if (this.#responseDone && this.#ex === ex) this.#finish(ex);
    };
    const onError = (err: Error): void => {
      cleanup();
      ex.abort(Object.assign(err, { code: (err as { code?: string }).code ?? 'UND_ERR_ABORTED' }));
    };
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    if (body.readableEnded) onEnd();
  }

  #data(chunk: Buffer): void {
    const ex = this.#ex;
    if (ex === undefined || ex.done) {
      // Bytes nobody asked for (or after an abort): the connection cannot be trusted.
      this.destroy();
      return;
    }
    if (ex.paused) {
      this.#stash = this.#stash === undefined ? chunk : Buffer.concat([this.#stash, chunk]);
      this.socket.pause();
      return;
    }
    ex.responded = true;
    if (!this.#inBody) {
      const buf = this.#headBuf === undefined ? chunk : Buffer.concat([this.#headBuf, chunk]);
      let start = 0;
      for (;;) {
        const end = buf.indexOf('\r\n\r\n', start, 'latin1');
        if (end === -1) {
          if (buf.length - start > MAX_RESPONSE_HEAD) return this.#protocolError(ex, 'upstream response head too large');
          this.#headBuf = start === 0 ? buf : buf.subarray(start);
          return;
        }
        const head = parseResponseHead(buf.toString('latin1', start, end));
        if ('error' in head) return this.#protocolError(ex, `malformed upstream response: ${head.error}`);
        start = end + 4;
        // Interim responses (100 Continue, 103): nothing to relay; the final one follows.
        if (head.status < 200) {
          if (head.status === 101) return this.#protocolError(ex, 'unexpected 101 from upstream');
          continue;
        }
        this.#headBuf = undefined;
        this.#inBody = true;
        this.#reusable = head.keepAlive;
        const ka = head.headers['keep-alive'];
        if (typeof ka === 'string') {
          const m = /timeout=(\d+)/i.exec(ka);
          if (m !== null) this.keepAliveHintMs = Number(m[1]) * 1000;
        }
        if (ex.opts.method === 'HEAD' || head.status === 204 || head.status === 304) this.#mode = NO_BODY;
        else if (head.chunked) {
          this.#mode = CHUNKED;
          this.#chunks = new ChunkedDecoder(this);
        } else if (head.contentLength >= 0) {
          this.#mode = head.contentLength === 0 ? NO_BODY : LENGTH;
          this.#left = head.contentLength;
        } else {
          this.#mode = UNTIL_CLOSE;
          this.#reusable = false;
        }
        ex.handler.onResponseStart?.(ex as unknown as Dispatcher.DispatchController, head.status, head.headers as Record<string, string | string[]>, '');
        if (ex.done) return;
        if (this.#mode === NO_BODY) {
          if (start < buf.length) this.#reusable = false;
          this.#complete(ex, undefined);
          return;
        }
        if (start < buf.length) this.#body(ex, buf.subarray(start));
        return;
      }
    }
    this.#body(ex, chunk);
  }

  #body(ex: H1Exchange, chunk: Buffer): void {
    if (this.#mode === LENGTH) {
      const take = Math.min(this.#left, chunk.length);
      this.#left -= take;
      if (take > 0) this.onData(take === chunk.length ? chunk : chunk.subarray(0, take));
      if (this.#left === 0 && !ex.done) {
        // Bytes past the declared length: the upstream broke framing; do not reuse.
        if (take < chunk.length) this.#reusable = false;
        this.#complete(ex, undefined);
      }
      return;
    }
    if (this.#mode === CHUNKED) {
      const used = this.#chunks!.push(chunk);
      if (typeof used === 'string') return this.#protocolError(ex, `malformed chunked response: ${used}`);
      if (used < chunk.length) this.#reusable = false;
      return;
    }
    this.onData(chunk);
  }

  /** ChunkSink and body slices: to the handler, honouring its pause. */
  onData(data: Buffer): void {
    const ex = this.#ex!;
    if (ex.done) return;
    ex.handler.onResponseData?.(ex as unknown as Dispatcher.DispatchController, data);
  }

  onEnd(trailers: Headers | undefined): void {
    const ex = this.#ex!;
    this.#chunks = undefined;
    if (!ex.done) this.#complete(ex, trailers);
  }

  #complete(ex: H1Exchange, trailers: Headers | undefined): void {
    this.#responseDone = true;
    ex.done = true;
    ex.handler.onResponseEnd?.(ex as unknown as Dispatcher.DispatchController, (trailers ?? {}) as Record<string, string | string[]>);
    if (this.#bodySent) this.#finish(ex);
    else this.#reusable = false;
  }

  /** Both directions over: back to the pool, or closed. */
  #finish(ex: H1Exchange): void {
    if (this.#ex !== ex) return;
    this.#ex = undefined;
    ex.conn = undefined;
    ex.release();
    if (this.#reusable && !this.#closed && this.#stash === undefined) this.#owner.release(this);
    else this.destroy();
  }

  #protocolError(ex: H1Exchange, message: string): void {
    this.destroy();
    ex.fail(codeError(message, 'UND_ERR_RESPONSE'));
  }

  #eof(): void {
    const ex = this.#ex;
    if (ex !== undefined && !ex.done && this.#inBody && this.#mode === UNTIL_CLOSE) this.#complete(ex, undefined);
    this.socket.end();
  }

  #gone(err: Error): void {
    if (this.#closed && this.#ex === undefined) {
      this.#owner.gone(this);
      return;
    }
    this.#closed = true;
    this.socket.destroy();
    this.#owner.gone(this);
    const ex = this.#ex;
    this.#ex = undefined;
    if (ex === undefined || ex.done) return;
    ex.conn = undefined;
    if (this.#inBody && this.#mode === UNTIL_CLOSE) {
      this.#complete(ex, undefined);
      return;
    }
    // A kept-alive connection the upstream closed as we reused it: nothing was answered, and
    // a request without a body can be sent again on a fresh connection.
    if (!ex.responded && this.requests > 1 && ex.opts.body === null && !ex.retried) {
      ex.retried = true;
      this.#owner.replay(ex);
      return;
    }
    const code = (err as { code?: string }).code;
    ex.fail(code === undefined || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' ? codeError(err.message, code ?? 'UND_ERR_SOCKET') : err);
  }
}
