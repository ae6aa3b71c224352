/**
 * Coalesces bursts of changes: fires `quietMs` after the last change, but never later than
 * `maxMs` after the first one of the burst (100 ms / 1 s, like istiod's push debounce).
 */
import type { Clock } from '../../common/clock.ts';

export interface DebounceOptions {
  quietMs?: number;
  maxMs?: number;
  timers: Clock;
}

export class Debouncer {
  private readonly quietMs: number;
  private readonly maxMs: number;
  private readonly timers: Clock;
  private readonly fire: (firstChangeAt: number) => void;
  private firstAt: number | undefined;
  private handle: unknown;

  constructor(fire: (firstChangeAt: number) => void, opts: DebounceOptions) {
    this.fire = fire;
    this.quietMs = opts.quietMs ?? 100;
    this.maxMs = opts.maxMs ?? 1000;
    this.timers = opts.timers;
  }

  trigger(): void {
    const now = this.timers.now();
    this.firstAt ??= now;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    const delay = Math.max(0, Math.min(this.quietMs, this.firstAt + this.maxMs - now));
    this.handle = this.timers.setTimeout(() => this.flush(), delay);
  }

  /** Fires now if anything is pending. */
  flush(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    const first = this.firstAt;
    this.firstAt = undefined;
    if (first !== undefined) this.fire(first);
  }

  cancel(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.firstAt = undefined;
  }
}
