/**
 * The long-poll config client of DESIGN.md §3:
 * `GET /v1/config?proxy=<id>&version=<hash>[&ack=<hash>|&nack=<hash>&error=<code: text>]`.
 * 200 carries a full snapshot, 304 means unchanged. Failures back off with full jitter;
 * meanwhile the proxy keeps serving its last good snapshot. Transport, timers and random
 * are injected so the loop runs on virtual time in tests.
 */
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import type { ConfigStore } from './store.ts';

export interface FetchResult {
  status: number;
  body: string;
}

export interface ConfigClientOptions {
  /** Base URL of the operator, e.g. `https://meshlet.meshlet-system.svc:15012`. */
  operator: string;
  proxyId: string;
  store: ConfigStore;
  /** Performs one GET; rejects on network errors. */
  fetch: (url: string, signal: AbortSignal) => Promise<FetchResult>;
  setTimeout: (cb: () => void, ms: number) => unknown;
  clearTimeout: (t: unknown) => void;
  random: () => number;
  backoff: BackoffPolicy;
  /** Called on every outcome (for logs and tests). */
  onEvent?: (e: ClientEvent) => void;
}

export type ClientEvent =
  | { type: 'applied'; version: string }
  | { type: 'nack'; version: string; code: string; error: string }
  | { type: 'unchanged' }
  | { type: 'error'; error: string; attempt: number; delayMs: number };

export class ConfigClient {
  private readonly o: ConfigClientOptions;
  private pending = '';
  private attempt = 0;
  private stopped = false;
  private readonly abort = new AbortController();
  private timer: unknown;
  private wake: (() => void) | undefined;
  private lastNacked = '';

  constructor(o: ConfigClientOptions) {
    this.o = o;
  }

  /** The URL of the next request (exported for tests). */
  nextUrl(): string {
    const u = new URL('/v1/config', this.o.operator);
    u.searchParams.set('proxy', this.o.proxyId);
    u.searchParams.set('version', this.o.store.version);
    return `${u.toString()}${this.pending}`;
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      let delay = 0;
      try {
        const res = await this.o.fetch(this.nextUrl(), this.abort.signal);
        this.pending = '';
        if (res.status === 200) delay = this.onSnapshot(res.body);
        else if (res.status === 304) {
          this.attempt = 0;
          this.o.onEvent?.({ type: 'unchanged' });
        } else throw new Error(`operator answered HTTP ${res.status}`);
      } catch (err) {
        if (this.stopped) break;
        delay = backoffDelay(this.o.backoff, this.attempt++, this.o.random);
        this.o.onEvent?.({ type: 'error', error: (err as Error).message, attempt: this.attempt, delayMs: delay });
      }
      if (delay > 0 && !this.stopped) await this.sleep(delay);
    }
  }

  private onSnapshot(body: string): number {
    const r = this.o.store.apply(body);
    if (r.ok) {
      this.attempt = 0;
      this.lastNacked = '';
      this.pending = `&ack=${encodeURIComponent(r.version)}`;
      this.o.onEvent?.({ type: 'applied', version: r.version });
      return 0;
    }
    this.pending = `&nack=${encodeURIComponent(r.version)}&error=${encodeURIComponent(`${r.code}: ${r.error}`)}`;
    this.o.onEvent?.({ type: 'nack', version: r.version, code: r.code, error: r.error });
    // The same bad snapshot again right after a NACK: slow down instead of spinning.
    const again = r.version !== '' && r.version === this.lastNacked;
    this.lastNacked = r.version;
    return again ? backoffDelay(this.o.backoff, this.attempt++, this.o.random) : 0;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = this.o.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
    });
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer !== undefined) this.o.clearTimeout(this.timer);
    this.wake?.();
  }
}
