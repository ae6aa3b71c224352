/**
 * One sweep for every client pool's idle connections (a timer per pool or per connection
 * would cost a timer update per request). It runs only while some pool holds idle ones.
 */
const INTERVAL_MS = 1000;

interface Sweepable {
  sweep(now: number): boolean;
}

class IdleSweep {
  #pools = new Set<Sweepable>();
  #timer: NodeJS.Timeout | undefined;
  /** A coarse clock for idle deadlines, refreshed on every watch and sweep. */
  now = performance.now();

  watch(p: Sweepable): void {
    this.now = performance.now();
    this.#pools.add(p);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#run(), INTERVAL_MS);
      this.#timer.unref();
    }
  }

  #run(): void {
    const now = (this.now = performance.now());
    for (const p of this.#pools) if (!p.sweep(now)) this.#pools.delete(p);
    if (this.#pools.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

export const idleSweep = new IdleSweep();
