/**
 * One downstream HTTP/1.1 connection on the codec: reads request heads (strict, 60 KiB),
 * hands each request to the proxy's request entry, streams its body with backpressure,
 * keeps the connection alive between requests and answers pipelined requests in order.
 * Timeouts (headers, keep-alive idle) are checked by the server's sweep, not by a timer per
 * request.
 */
import type { Socket } from 'node:net';
import { rawLocalReply } from '../http/local-reply.ts';
import { ChunkedDecoder, type ChunkSink } from './chunked.ts';
import { parseRequestHead, type Headers } from './head-parse.ts';
import { H1Request, type BodySource } from './server-request.ts';
import { H1Response, type ResponseOwner } from './server-response.ts';

/** Envoy's default max request headers size. */
export const MAX_HEADER_BYTES = 60 * 1024;
/** Bytes of pipelined requests buffered while one is in flight before reading pauses. */
const MAX_PIPELINE_BUFFER = 64 * 1024;
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** Where parsed requests go: the proxy's request entry (and its upgrade entry). */
export interface RequestEntry {
  request(req: H1Request, res: H1Response): void;
  upgrade(req: H1Request, socket: Socket, head: Buffer): void;
  /** A request the codec refused itself (status and the parser's reason), for logs and tests. */
  refused?(status: number, reason: string): void;
}

export interface ConnLimits {
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** The server's view of its connections, for the timeout sweep. */
export interface ConnRegistry {
  readonly now: number;
  remove(c: H1ServerConn): void;
}

const HEAD = 0;
const BODY = 1;
const WAIT = 2;
const CLOSED = 3;

export class H1ServerConn implements BodySource, ChunkSink, ResponseOwner {
  readonly socket: Socket;
  /** When the sweep closes this connection (0: no deadline). */
  deadline = 0;
  /** Whether bytes of the current head arrived (408 on timeout) or it is idle (silent close). */
  #partial = false;
  #phase = HEAD;
  #buf: Buffer | undefined;
  #req: H1Request | undefined;
  #res: H1Response | undefined;
  #bodyLeft = 0;
  #chunks: ChunkedDecoder | undefined;
  /** The response ended before the request body did: read and drop the rest. */
  #dumping = false;
  #bodyDone = true;
  #responseDone = true;
  #reusable = true;
  #clientEnded = false;
  readonly #entry: RequestEntry;
  readonly #limits: ConnLimits;
  readonly #registry: ConnRegistry;
  readonly #onData = (c: Buffer): void => this.#data(c);

  constructor(socket: Socket, entry: RequestEntry, limits: ConnLimits, registry: ConnRegistry) {
    this.socket = socket;
    this.#entry = entry;
    this.#limits = limits;
    this.#registry = registry;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', () => this.#ended());
    socket.on('close', () => this.#closed());
    socket.on('error', () => socket.destroy());
    this.deadline = registry.now + limits.headersTimeoutMs;
  }

  /** Between requests with nothing of the next one read: safe to close on shutdown. */
  get idle(): boolean {
    return this.#phase === HEAD && !this.#partial;
  }

  /** Called by the sweep when the deadline passed. */
  timedOut(): void {
    // Part of a head arrived: say why (408). An idle keep-alive connection just closes.
    if (this.#phase === HEAD && this.#partial && this.socket.writable) {
      this.socket.end(rawLocalReply(408, 'Request Timeout', 'MESHLET_PROXY_REQUEST_TIMEOUT', 'DT'));
      this.socket.destroySoon();
    } else this.socket.destroy();
    this.#phase = CLOSED;
  }

  #data(chunk: Buffer): void {
    if (this.#phase === BODY) {
      this.#body(chunk);
      return;
    }
    this.#buf = this.#buf === undefined ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#phase === HEAD) this.#parse();
    else if (this.#phase === WAIT && this.#buf.length > MAX_PIPELINE_BUFFER) this.socket.pause();
  }

  /** Parses as many complete requests as the buffer holds (one in flight at a time). */
  #parse(): void {
    while (this.#phase === HEAD && this.#buf !== undefined) {
      const buf = this.#buf;
      if (!this.#partial) {
        this.#partial = true;
        this.deadline = this.#registry.now + this.#limits.headersTimeoutMs;
      }
      const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
      if (end === -1) {
        if (buf.length > MAX_HEADER_BYTES) return this.#refuse(431, 'Request Header Fields Too Large', 'MESHLET_PROXY_HEADERS_TOO_LARGE', 'head too large');
        // A bare LF can never be completed into a valid head: refuse now rather than wait.
        const lf = buf.indexOf(10);
        if (lf !== -1 && (lf === 0 || buf[lf - 1] !== 13)) return this.#refuse(400, 'Bad Request', 'MESHLET_PROXY_BAD_REQUEST', 'bare LF');
        return;
      }
      if (end > MAX_HEADER_BYTES) return this.#refuse(431, 'Request Header Fields Too Large', 'MESHLET_PROXY_HEADERS_TOO_LARGE', 'head too large');
      const head = parseRequestHead(buf.toString('latin1', 0, end));
      if ('error' in head) return this.#refuse(400, 'Bad Request', 'MESHLET_PROXY_BAD_REQUEST', head.error);
      const rest = end + 4 < buf.length ? buf.subarray(end + 4) : undefined;
      this.#buf = undefined;
      this.#partial = false;
      this.deadline = 0;
      if (head.upgrade) {
        this.#upgrade(head.method, head.target, head.headers, head.minor, rest);
        return;
      }
      const hasBody = head.chunked || head.contentLength > 0;
      this.#bodyDone = !hasBody;
      this.#responseDone = false;
      this.#dumping = false;
      this.#reusable = head.keepAlive;
      this.#bodyLeft = head.chunked ? 0 : Math.max(0, head.contentLength);
      this.#chunks = head.chunked ? new ChunkedDecoder(this) : undefined;
      const req = new H1Request(head.method, head.target, head.headers, head.minor, this.socket, this, hasBody);
      const res = new H1Response(this.socket, this, head.method === 'HEAD', head.minor, !head.keepAlive);
      this.#req = req;
      this.#res = res;
      this.#phase = hasBody ? BODY : WAIT;
      if (hasBody && head.expectContinue) this.socket.write(CONTINUE, 'latin1');
      this.#entry.request(req, res);
      if (rest !== undefined) {
        if (this.#phase === BODY) this.#body(rest);
        else if (this.#phase === WAIT) this.#buf = this.#buf === undefined ? rest : Buffer.concat([this.#buf, rest]);
        else if (this.#phase === HEAD) this.#buf = rest;
      }
    }
  }

  #upgrade(method: string, target: string, headers: Headers, minor: number, rest: Buffer | undefined): void {
    // The socket leaves the codec: the upgrade terminal splices it after a 101.
    this.#phase = CLOSED;
    this.socket.removeListener('data', this.#onData);
    this.#registry.remove(this);
    const req = new H1Request(method, target, headers, minor, this.socket, this, false);
    this.#entry.upgrade(req, this.socket, rest ?? Buffer.alloc(0));
  }

  #body(chunk: Buffer): void {
    if (this.#chunks !== undefined) {
      const used = this.#chunks.push(chunk);
      if (typeof used === 'string') return this.#bodyError(used);
      if (this.#chunks.done) {
        this.#chunks = undefined;
        this.#bodyEnd(used < chunk.length ? chunk.subarray(used) : undefined);
      }
      return;
    }
    const take = Math.min(this.#bodyLeft, chunk.length);
    this.#bodyLeft -= take;
    if (take > 0) this.onData(take === chunk.length ? chunk : chunk.subarray(0, take));
    if (this.#bodyLeft === 0) this.#bodyEnd(take < chunk.length ? chunk.subarray(take) : undefined);
  }

  /** ChunkSink / body bytes: to the request stream, or dropped once the response is over. */
  onData(data: Buffer): void {
    if (this.#dumping) return;
    if (!this.#req!.push(data)) this.socket.pause();
  }

  onEnd(trailers: Headers | undefined): void {
    if (trailers !== undefined && this.#req !== undefined) this.#req.trailers = trailers;
  }

  resumeBody(): void {
    if (this.#phase === BODY) this.socket.resume();
  }

  #bodyEnd(rest: Buffer | undefined): void {
    this.#bodyDone = true;
    if (!this.#dumping) this.#req!.push(null);
    this.#phase = WAIT;
    if (rest !== undefined) this.#buf = rest;
    if (this.#responseDone) this.#next();
  }

  #bodyError(why: string): void {
    this.#entry.refused?.(400, why);
    const res = this.#res;
    this.#phase = CLOSED;
    this.#req?.destroy(Object.assign(new Error('malformed request body'), { code: 'HPE_INVALID_CHUNK_SIZE' }));
    if (res !== undefined && !res.headersSent && this.socket.writable) this.socket.write(rawLocalReply(400, 'Bad Request', 'MESHLET_PROXY_BAD_REQUEST', 'DPE'));
    this.socket.destroySoon();
  }

  responseDone(_res: H1Response, reusable: boolean): void {
    this.#responseDone = true;
    if (!reusable) this.#reusable = false;
    if (!this.#bodyDone) {
      // Like node:http: read the rest of the request body and drop it, so the connection can serve the next one.
      this.#dumping = true;
      this.socket.resume();
      return;
    }
    this.#next();
  }

  /** The exchange is over on both sides: next pipelined request, keep-alive wait, or close. */
  #next(): void {
    this.#req = undefined;
    this.#res = undefined;
    if (!this.#reusable || this.#clientEnded) {
      this.#phase = CLOSED;
      this.socket.end();
      this.socket.destroySoon();
      return;
    }
    this.#phase = HEAD;
    this.deadline = this.#registry.now + this.#limits.keepAliveTimeoutMs;
    if (this.socket.isPaused()) this.socket.resume();
    if (this.#buf !== undefined) this.#parse();
  }

  #refuse(status: number, reason: string, code: string, why: string): void {
    this.#entry.refused?.(status, why);
    this.#phase = CLOSED;
    this.#buf = undefined;
    if (this.socket.writable) this.socket.end(rawLocalReply(status, reason, code, 'DPE'));
    this.socket.destroySoon();
  }

  #ended(): void {
    // A client may half-close after its request (legal in HTTP/1.1): still answer, then close.
    this.#clientEnded = true;
    if (this.#phase === HEAD || this.#phase === CLOSED) this.socket.destroy();
    else if (this.#phase === BODY) {
      this.#req?.destroy(Object.assign(new Error('request body cut short'), { code: 'ECONNRESET' }));
      this.#res?.destroy();
    }
  }

  #closed(): void {
    this.#phase = CLOSED;
    this.#registry.remove(this);
    const req = this.#req;
    if (req !== undefined && !this.#bodyDone && !req.destroyed) req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    this.#res?.socketClosed();
  }
}
