/**
 * The request object the HTTP/1.1 codec hands to the chain: what the features read of a
 * node:http IncomingMessage (method, url, headers, httpVersion, socket) and, for requests
 * with a body, a Readable of it. Bodiless requests never touch the stream machinery.
 */
import { Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { Headers } from './head-parse.ts';

/** Asks the connection for more body bytes (the consumer read after backpressure). */
export interface BodySource {
  resumeBody(): void;
}

export class H1Request extends Readable {
  readonly method: string;
  readonly url: string;
  /** Node's header shape (host a string, set-cookie an array), as the head parser builds it. */
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion: string;
  readonly socket: Socket;
  /** Trailers of a chunked request body, once read. */
  trailers: Headers = {};
  readonly #source: BodySource;
  readonly #hasBody: boolean;

  constructor(method: string, url: string, headers: Headers, minor: number, socket: Socket, source: BodySource, hasBody: boolean) {
    super();
    this.method = method;
    this.url = url;
    this.headers = headers as IncomingHttpHeaders;
    this.httpVersion = minor === 1 ? '1.1' : '1.0';
    this.socket = socket;
    this.#source = source;
    this.#hasBody = hasBody;
  }

  override _read(): void {
    if (this.#hasBody) this.#source.resumeBody();
    else this.push(null);
  }
}
