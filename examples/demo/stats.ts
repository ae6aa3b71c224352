/** Rolling per-row statistics of the demo's load: req/s, success rate, p50/p99 over a window. */
export interface Sample {
  at: number;
  ms: number;
  ok: boolean;
}

export interface RowStats {
  key: string;
  rps: number;
  success: number;
  p50: number;
  p99: number;
  count: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export class RollingStats {
  readonly #rows = new Map<string, Sample[]>();
  readonly windowMs: number;
  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  add(key: string, s: Sample): void {
    let list = this.#rows.get(key);
    if (list === undefined) this.#rows.set(key, (list = []));
    list.push(s);
  }

  /** Rows with samples inside [now - window, now], keys sorted. */
  snapshot(now: number): RowStats[] {
    const out: RowStats[] = [];
    for (const [key, list] of this.#rows) {
      while (list.length > 0 && list[0]!.at < now - this.windowMs) list.shift();
      if (list.length === 0) continue;
      const lat = list.map((s) => s.ms).sort((a, b) => a - b);
      out.push({ key, count: list.length, rps: list.length / (this.windowMs / 1000), success: list.filter((s) => s.ok).length / list.length, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}
