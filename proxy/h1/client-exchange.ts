/**
 * One request on the HTTP/1.1 client: the controller the upstream handler holds (pause,
 * resume, abort — undici's DispatchController contract, so the terminal and the resilience
 * features work unchanged) and the request as it will be written.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { H1ClientConn } from './client-conn.ts';

export interface H1RequestOptions {
  path: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: Readable | null;
}

/** What a finished exchange points at instead of its request and handler. */
const RELEASED_OPTS: H1RequestOptions = Object.freeze({ path: '', method: '', headers: {}, body: null });
const RELEASED_HANDLER: Dispatcher.DispatchHandler = Object.freeze({});

export class H1Exchange {
  opts: H1RequestOptions;
  handler: Dispatcher.DispatchHandler;
  conn: H1ClientConn | undefined;
  aborted = false;
  paused = false;
  reason: Error | null = null;
  /** Response over, or failed: no more handler calls. */
  done = false;
  /** Bytes of the response arrived: a failure now can no longer be retried on a fresh connection. */
  responded = false;
  /** Replayed once on a fresh connection after a reused one was found closed. */
  retried = false;

  constructor(opts: H1RequestOptions, handler: Dispatcher.DispatchHandler) {
    this.opts = opts;
    this.handler = handler;
  }

  pause(): void {
    this.paused = true;
    this.conn?.pauseReading();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn?.resumeReading();
  }

  abort(reason: Error): void {
    if (this.done) return;
    this.aborted = true;
    this.reason = reason;
    this.fail(reason);
    this.conn?.destroy();
  }

  /** Ends the exchange with an error (once). */
  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.handler.onResponseError?.(this as unknown as Dispatcher.DispatchController, err);
    this.release();
  }

  /**
   * Over for good: drop the request and the handler, so that whatever still holds this
   * exchange (a connection, a retry attempt) keeps nothing of the request alive.
   */
  release(): void {
    this.opts = RELEASED_OPTS;
    this.handler = RELEASED_HANDLER;
    this.reason = null;
  }
}
