/**
 * The operator's own collection, for when no Prometheus is configured (local mode): it
 * scrapes each connected proxy's 15090 `/stats/prometheus` on demand (at most once per
 * `minIntervalMs`), keeps the samples of the last `windowMs` per proxy, and turns the
 * oldest→newest deltas into per-second rates — the same rows a PromQL `rate()` gives.
 * Clock and fetch are injectable.
 */
import { parsePromText, type Sample } from './prom-text.ts';
import type { Row } from './graph-build.ts';

const WANTED = new Set(['istio_requests_total', 'istio_request_duration_milliseconds_bucket', 'istio_tcp_connections_opened_total']);
const KEEP = ['reporter', 'source_workload', 'source_workload_namespace', 'destination_service', 'destination_service_name', 'destination_service_namespace', 'destination_workload', 'destination_workload_namespace', 'response_code', 'connection_security_policy', 'le'];

interface Scrape {
  t: number;
  series: Map<string, Sample>;
}

export interface CollectorOptions {
  /** Stats URLs of the proxies to scrape (e.g. `http://<pod ip>:15090/stats/prometheus`). */
  targets: () => string[];
  windowMs?: number;
  minIntervalMs?: number;
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

function keyOf(s: Sample): string {
  let k = s.name;
  for (const l of KEEP) k += `|${s.labels[l] ?? ''}`;
  return k;
}

export class ProxyCollector {
  readonly #o: Required<Omit<CollectorOptions, 'targets'>> & { targets: () => string[] };
  readonly #history = new Map<string, Scrape[]>();
  #last = -Infinity;
  #inflight: Promise<void> | undefined;
  /** Targets that failed on the last scrape, with the error. */
  readonly errors = new Map<string, string>();

  constructor(o: CollectorOptions) {
    this.#o = { windowMs: 60_000, minIntervalMs: 1_000, timeoutMs: 2_000, now: () => Date.now(), fetch: globalThis.fetch, ...o };
  }

  /** Scrapes every target unless the last scrape is fresh enough. */
  async refresh(): Promise<void> {
    const now = this.#o.now();
    if (now - this.#last < this.#o.minIntervalMs) return this.#inflight;
    this.#last = now;
    this.#inflight = this.#scrapeAll(now);
    return this.#inflight;
  }

  async #scrapeAll(t: number): Promise<void> {
    const targets = this.#o.targets();
    for (const k of this.#history.keys()) if (!targets.includes(k)) this.#history.delete(k);
    await Promise.all(targets.map(async (url) => {
      try {
        const r = await this.#o.fetch(url, { signal: AbortSignal.timeout(this.#o.timeoutMs) });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const series = new Map<string, Sample>();
        for (const s of parsePromText(await r.text(), WANTED)) {
          // Several raw series fold into one row (labels the graph does not use are dropped).
          const k = keyOf(s);
          const prev = series.get(k);
          if (prev === undefined) series.set(k, { ...s });
          else prev.value += s.value;
        }
        const h = this.#history.get(url) ?? [];
        h.push({ t, series });
        while (h.length > 2 && h[1]!.t <= t - this.#o.windowMs) h.shift();
        this.#history.set(url, h);
        this.errors.delete(url);
      } catch (err) {
        this.errors.set(url, (err as Error).message);
      }
    }));
  }

  /** True once some target has two scrapes, i.e. rates can be computed. */
  get hasRates(): boolean {
    for (const h of this.#history.values()) if (h.length >= 2) return true;
    return false;
  }

  /**
   * Refreshes, and when no target has two scrapes yet (first view after start-up), waits
   * the minimum interval and scrapes once more, so the first answer already has rates.
   */
  async refreshForRates(sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
    await this.refresh();
    if (this.hasRates || this.#o.targets().length === 0) return;
    await sleep(this.#o.minIntervalMs);
    await this.refresh();
  }

  /** Per-second rates over the window: requests, duration buckets, TCP connections opened. */
  rates(): { requests: Row[]; buckets: Row[]; tcp: Row[] } {
    const requests: Row[] = [];
    const buckets: Row[] = [];
    const tcp: Row[] = [];
    for (const h of this.#history.values()) {
      if (h.length < 2) continue;
      const a = h[0]!;
      const b = h[h.length - 1]!;
      const dt = (b.t - a.t) / 1000;
      if (dt <= 0) continue;
      for (const [k, s] of b.series) {
        const old = a.series.get(k)?.value ?? 0;
        // A counter that went down was reset (proxy restart): count from zero.
        const delta = s.value >= old ? s.value - old : s.value;
        const row = { labels: s.labels, value: delta / dt };
        (s.name === 'istio_requests_total' ? requests : s.name === 'istio_tcp_connections_opened_total' ? tcp : buckets).push(row);
      }
    }
    return { requests, buckets, tcp };
  }
}
