/**
 * Envoy-style access log: one JSON line per request, off by default, on per mesh or per pod
 * (`telemetry.accessLog` in the snapshot). Written through pino's asynchronous destination
 * (SonicBoom, `sync: false`): lines are buffered and flushed by the event loop, so a slow
 * disk or pipe never blocks a request. Lines finished in one event-loop turn go out in one
 * write. Fields follow Envoy's default JSON format names.
 */
import { pino } from 'pino';

export interface AccessLogEntry {
  start_time: string;
  method: string;
  path: string;
  protocol: string;
  response_code: number;
  response_flags: string;
  bytes_received: number;
  bytes_sent: number;
  duration: number;
  upstream_host: string | null;
  upstream_cluster: string | null;
  route_name: string | null;
  /** `Kind/namespace/name` of the object that produced the route. */
  route_provenance: string | null;
  authority: string;
  x_request_id: string | null;
  trace_id: string | null;
  /** Verified SPIFFE identity of the downstream (inbound mTLS) or upstream (outbound mTLS). */
  peer_principal: string | null;
  downstream_remote_address: string;
  direction: 'inbound' | 'outbound';
  user_agent: string | null;
}

export interface AccessLogOptions {
  /** File path or file descriptor; stdout (1) by default. */
  dest?: string | number;
  /** Bytes buffered before a write; 0 by default: lines still batch while a write is in flight, and none waits for traffic to flush it. */
  minLength?: number;
}

export class AccessLog {
  readonly #opts: AccessLogOptions;
  #dest: ReturnType<typeof pino.destination> | undefined;
  #enabled = false;
  /** Lines of this event-loop turn, written together once the turn ends. */
  #pending = '';
  #scheduled = false;
  readonly #writePending = (): void => {
    this.#scheduled = false;
    const lines = this.#pending;
    this.#pending = '';
    if (lines !== '') this.#dest?.write(lines);
  };

  constructor(opts: AccessLogOptions = {}) {
    this.#opts = opts;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Turns the log on or off; the destination is opened on first use and kept. */
  configure(enabled: boolean): void {
    this.#enabled = enabled;
    if (enabled && this.#dest === undefined) this.#dest = pino.destination({ dest: this.#opts.dest ?? 1, sync: false, minLength: this.#opts.minLength ?? 0, mkdir: true });
  }

  write(e: AccessLogEntry): void {
    if (!this.#enabled || this.#dest === undefined) return;
    // The entry is the whole line (no level/pid/time wrapper: it carries start_time, like Envoy's).
    this.#pending += `${JSON.stringify(e)}\n`;
    // One write per event-loop turn instead of one per request: under load a turn finishes
    // many requests, and each destination write is a syscall handed to libuv's thread pool.
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#writePending);
    }
  }

  /** Flushes buffered lines (tests, graceful exit). */
  flush(): Promise<void> {
    this.#writePending();
    const d = this.#dest;
    if (d === undefined) return Promise.resolve();
    return new Promise((resolve) => d.flush(() => resolve()));
  }

  close(): Promise<void> {
    this.#writePending();
    const d = this.#dest;
    this.#dest = undefined;
    if (d === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      d.once('close', () => resolve());
      d.end();
    });
  }
}
