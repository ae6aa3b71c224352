/**
 * The HTTP/1.1 client pool of one upstream endpoint (plain TCP or mesh mTLS): reuses idle
 * connections last-in first-out, opens new ones on demand (no cap: connectionPool limits are
 * the cluster guard's job, as with undici's Pool), closes idle ones after the pool's idle
 * timeout or the upstream's Keep-Alive hint, whichever is shorter. Same `dispatch` contract as
 * undici's Pool, so the terminal, mirror and resilience features drive either.
 */
import { connect, type Socket } from 'node:net';
import type { Dispatcher, buildConnector } from 'undici';
import { H1ClientConn, type ConnOwner } from './client-conn.ts';
import { H1Exchange, type H1RequestOptions } from './client-exchange.ts';
import { idleSweep } from './idle-sweep.ts';

export interface H1PoolOptions {
  address: string;
  port: number;
  localAddress?: string | undefined;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** 0: unlimited. */
  maxRequestsPerConnection: number;
  /** TCP keepalive probes after this idle time (ms), when set. */
  tcpKeepAliveMs?: number | undefined;
  /** Dials mesh mTLS (or any TLS); plain TCP when undefined. */
  connector?: buildConnector.connector | undefined;
}

/** The margin kept under an upstream's Keep-Alive hint, so we never reuse a connection it is closing. */
const KEEP_ALIVE_MARGIN_MS = 1000;

export class H1Pool implements ConnOwner {
  readonly #o: H1PoolOptions;
  readonly #idle: H1ClientConn[] = [];
  readonly #all = new Set<H1ClientConn>();
  #closing = false;
  #drained: (() => void) | undefined;

  constructor(o: H1PoolOptions) {
    this.#o = o;
  }

  /** Open connections (busy and idle), for stats and tests. */
  get connections(): number {
    return this.#all.size;
  }

  dispatch(opts: H1RequestOptions, handler: Dispatcher.DispatchHandler): boolean {
    const ex = new H1Exchange(opts, handler);
    handler.onRequestStart?.(ex as unknown as Dispatcher.DispatchController, {});
    if (ex.done) return true;
    if (this.#closing) {
      ex.fail(Object.assign(new Error('pool closed'), { code: 'UND_ERR_CLOSED' }));
      return true;
    }
    this.#run(ex, false);
    return true;
  }

  replay(ex: H1Exchange): void {
    if (this.#closing) ex.fail(Object.assign(new Error('pool closed'), { code: 'UND_ERR_CLOSED' }));
    else this.#run(ex, true);
  }

  #run(ex: H1Exchange, fresh: boolean): void {
    if (!fresh) {
      for (let c = this.#idle.pop(); c !== undefined; c = this.#idle.pop()) {
        if (c.closed) continue;
        c.send(ex);
        return;
      }
    }
    this.#open(ex);
  }

  #open(ex: H1Exchange): void {
    const o = this.#o;
    const connected = (socket: Socket): void => {
      if (o.tcpKeepAliveMs !== undefined) socket.setKeepAlive(true, o.tcpKeepAliveMs);
      const conn = new H1ClientConn(socket, this);
      this.#all.add(conn);
      if (ex.done) {
        this.release(conn);
        return;
      }
      conn.send(ex);
    };
    const timeoutMs = o.connectTimeoutMs > 0 ? o.connectTimeoutMs : 10_000;
    if (o.connector !== undefined) {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ex.fail(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
      }, timeoutMs);
      o.connector({ hostname: o.address, host: o.address, port: String(o.port), protocol: 'http:', servername: null, localAddress: o.localAddress ?? null } as unknown as buildConnector.Options, (err, socket) => {
        clearTimeout(timer);
        if (err !== null || socket === null) {
          if (!timedOut) ex.fail(err ?? new Error('connect failed'));
          return;
        }
        if (timedOut) {
          socket.destroy();
          return;
        }
        socket.setNoDelay(true);
        connected(socket as Socket);
      });
      return;
    }
    const socket = connect({ host: o.address, port: o.port, noDelay: true, ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }) });
    const timer = setTimeout(() => {
      socket.destroy();
      ex.fail(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      ex.fail(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      connected(socket);
    });
  }

  release(conn: H1ClientConn): void {
    const max = this.#o.maxRequestsPerConnection;
    if (this.#closing || conn.closed || (max > 0 && conn.requests >= max)) {
      conn.destroy();
      return;
    }
    const hint = conn.keepAliveHintMs > 0 ? conn.keepAliveHintMs - KEEP_ALIVE_MARGIN_MS : Infinity;
    const ttl = Math.min(this.#o.idleTimeoutMs, hint);
    if (ttl <= 0) {
      conn.destroy();
      return;
    }
    conn.idleUntil = idleSweep.now + ttl;
    this.#idle.push(conn);
    idleSweep.watch(this);
  }

  gone(conn: H1ClientConn): void {
    if (!this.#all.delete(conn)) return;
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    if (this.#closing && this.#all.size === 0) this.#drained?.();
  }

  /** Closes expired idle connections; true while some remain idle (keep watching). */
  sweep(now: number): boolean {
    const idle = this.#idle;
    for (let i = idle.length - 1; i >= 0; i--) {
      const c = idle[i]!;
      if (c.idleUntil <= now) {
        idle.splice(i, 1);
        c.destroy();
      }
    }
    return idle.length > 0;
  }

  /** Graceful: idle connections close now, busy ones after their request. */
  close(): Promise<void> {
    this.#closing = true;
    for (const c of this.#idle.splice(0)) c.destroy();
    if (this.#all.size === 0) return Promise.resolve();
    return new Promise((r) => (this.#drained = r));
  }
}
