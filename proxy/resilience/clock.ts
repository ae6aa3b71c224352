/**
 * The proxy's `Clock` (common/clock.ts) for the resilience features: monotonic, and built for
 * the many short timers of the request path that are almost always cancelled.
 */
import type { Clock } from '../../common/clock.ts';

interface Entry {
  at: number;
  cb: () => void;
  prev: Entry | undefined;
  next: Entry | undefined;
  queue: DeadlineQueue | undefined;
}

/**
 * Timers of one fixed duration, as Node keeps them internally but without a Timeout object
 * and a libuv clock read per timer: deadlines of a fixed duration arrive in order, so a
 * linked list with one Node timer for its head is enough. The route and per-try timers of
 * every request are armed and almost always cancelled: cancel unlinks in O(1).
 */
class DeadlineQueue {
  private first: Entry | undefined;
  private last: Entry | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly ms: number;
  constructor(ms: number) {
    this.ms = ms;
  }
  add(cb: () => void): Entry {
    const e: Entry = { at: performance.now() + this.ms, cb, prev: this.last, next: undefined, queue: this };
    if (this.last === undefined) this.first = e;
    else this.last.next = e;
    this.last = e;
    if (this.timer === undefined) this.timer = setTimeout(this.fire, this.ms);
    return e;
  }
  remove(e: Entry): void {
    if (e.prev === undefined) this.first = e.next;
    else e.prev.next = e.next;
    if (e.next === undefined) this.last = e.prev;
    else e.next.prev = e.prev;
    e.prev = e.next = e.queue = undefined;
  }
  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    for (let e = this.first; e !== undefined && e.at <= now; e = this.first) {
      this.remove(e);
      e.cb();
    }
    if (this.first !== undefined) this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(this.first.at - now)));
  };
}

const queues = new Map<number, DeadlineQueue>();

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout(cb, ms) {
    const d = Math.max(0, Math.round(ms));
    let q = queues.get(d);
    if (q === undefined) queues.set(d, (q = new DeadlineQueue(d)));
    return q.add(cb);
  },
  clearTimeout(h) {
    const e = h as Entry;
    e.queue?.remove(e);
  },
};
