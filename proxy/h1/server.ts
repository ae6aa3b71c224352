/**
 * The HTTP/1.1 codec's server: takes sockets from the capture listeners (it never listens
 * itself) and runs one H1ServerConn per socket. One sweep per server closes connections whose
 * headers or keep-alive deadline passed, instead of a timer per request.
 */
import type { Socket } from 'node:net';
import { handleRequest, type ProxyState } from '../http/handle-request.ts';
import { handleUpgrade } from '../http/upgrade.ts';
import { H1ServerConn, type ConnLimits, type ConnRegistry, type RequestEntry } from './server-conn.ts';

/** What the capture listeners hand HTTP/1.x sockets to: this codec, or node:http (fallback). */
export interface Http1Acceptor {
  accept(socket: Socket): void;
  closeIdle(): void;
  closeAll(): void;
}

export class H1Server implements ConnRegistry, Http1Acceptor {
  now = performance.now();
  readonly #conns = new Set<H1ServerConn>();
  readonly #entry: RequestEntry;
  readonly #limits: ConnLimits;
  #sweep: NodeJS.Timeout | undefined;
  readonly #interval: number;

  /** `entry` defaults to the proxy's request handling of `state`; tests give their own. */
  constructor(state: ProxyState | undefined, limits: ConnLimits, entry?: RequestEntry) {
    this.#entry = entry ?? {
      request: (req, res) => handleRequest(state!, req, res),
      upgrade: (req, socket, head) => handleUpgrade(state!, req, socket, head),
    };
    this.#limits = limits;
    this.#interval = Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.keepAliveTimeoutMs) / 4)));
  }

  /** A socket whose first bytes said HTTP/1.x (pushed back, paused). */
  accept(socket: Socket): void {
    this.now = performance.now();
    const c = new H1ServerConn(socket, this.#entry, this.#limits, this);
    this.#conns.add(c);
    if (this.#sweep === undefined) {
      this.#sweep = setInterval(() => this.#check(), this.#interval);
      this.#sweep.unref();
    }
    socket.resume();
  }

  remove(c: H1ServerConn): void {
    this.#conns.delete(c);
  }

  get connections(): number {
    return this.#conns.size;
  }

  /** Closes connections between requests (graceful shutdown: in-flight ones finish). */
  closeIdle(): void {
    for (const c of this.#conns) {
      if (!c.idle) continue;
      this.#conns.delete(c);
      c.socket.destroy();
    }
  }

  /** Drops every connection and stops the sweep. */
  closeAll(): void {
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const c of this.#conns) c.socket.destroy();
    this.#conns.clear();
  }

  #check(): void {
    const now = (this.now = performance.now());
    for (const c of this.#conns) {
      if (c.deadline !== 0 && c.deadline <= now) {
        this.#conns.delete(c);
        c.timedOut();
      }
    }
  }
}
