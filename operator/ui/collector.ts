/**
 * The operator's own collection, for when no Prometheus is configured (local mode): it
 * scrapes each connected proxy's 15090 `/stats/prometheus` on demand (at most once per
 * `minIntervalMs`), keeps the samples of the last `windowMs` per proxy, and turns the
 * oldest→newest deltas into per-second rates — the same rows a PromQL `rate()` gives.
 * Clock and fetch are injectable.
 */
import { MeshletError } from '../../common/errors.ts';
import { parsePromText, type Sample } from './prom-text.ts';
import type { Row } from './graph-build.ts';

const WANTED = new Set(['istio_requests_total', 'istio_request_duration_milliseconds_bucket', 'istio_tcp_connections_opened_total']);
const KEEP = ['reporter', 'source_workload', 'source_workload_namespace', 'source_app', 'source_version', 'source_cluster', 'destination_service', 'destination_service_name', 'destination_service_namespace', 'destination_workload', 'destination_workload_namespace', 'destination_app', 'destination_version', 'destination_cluster', 'response_code', 'response_flags', 'connection_security_policy', 'le'];
/** Windows the page offers (1 / 5 / 15 min); history is kept for the longest. */
export const WINDOWS_MS = { '1m': 60_000, '5m': 300_000, '15m': 900_000 } as const;
export type WindowName = keyof typeof WINDOWS_MS;

/** The window named by a query parameter or flag; `1m` when absent. */
export function windowOf(v: unknown): WindowName {
  if (v === undefined || v === '') return '1m';
  if (typeof v === 'string' && v in WINDOWS_MS) return v as WindowName;
  throw new MeshletError('MESHLET_TELEMETRY_GRAPH_WINDOW', `window=${String(v)}: use 1m, 5m or 15m`);
}

export interface Rates {
  requests: Row[];
  buckets: Row[];
  tcp: Row[];
}

interface Scrape {
  t: number;
  series: Map<string, Sample>;
}

export interface CollectorOptions {
  /** Stats URLs of the proxies to scrape (e.g. `http://<pod ip>:15090/stats/prometheus`). */
  targets: () => string[];
  /** How much history is kept (the longest window offered), default 15 min. */
  windowMs?: number;
  minIntervalMs?: number;
  /** Scrapes older than a minute are thinned to one per this interval (memory stays bounded), default windowMs / 180 (5 s for 15 min). */
  keepEveryMs?: number;
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
    const windowMs = o.windowMs ?? WINDOWS_MS['15m'];
    this.#o = { windowMs, minIntervalMs: 1_000, keepEveryMs: windowMs / 180, timeoutMs: 2_000, now: () => Date.now(), fetch: globalThis.fetch, ...o };
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
        // The last minute keeps every scrape (charts fill at once); older ones are thinned to one per keepEveryMs.
        const recent = t - Math.min(60_000, this.#o.windowMs);
        let kept = 1;
        for (let i = 1; i < h.length; i++) {
          const x = h[i]!;
          if (i === h.length - 1 || x.t >= recent || x.t - h[kept - 1]!.t >= this.#o.keepEveryMs) h[kept++] = x;
        }
        h.length = kept;
        this.#history.set(url, h);
        this.errors.delete(url);
      } catch (err) {
        this.errors.set(url, (err as Error).message);
      }
    }));
  }

  /** Scrapes kept over all targets (memory stays bounded however long the page is open). */
  get scrapesKept(): number {
    let n = 0;
    for (const h of this.#history.values()) n += h.length;
    return n;
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

  /** Per-second rates over the last `windowMs` (default: all history kept): requests, duration buckets, TCP connections opened. */
  rates(windowMs = this.#o.windowMs): Rates {
    const out: Rates = { requests: [], buckets: [], tcp: [] };
    for (const h of this.#history.values()) {
      if (h.length < 2) continue;
      const b = h[h.length - 1]!;
      // The oldest scrape inside the window, else the one just before the newest.
      const a = h.find((x) => x.t >= b.t - windowMs && x !== b) ?? h[h.length - 2]!;
      deltas(a, b, out);
    }
    return out;
  }

  /**
   * The window cut into at most `steps` consecutive intervals (per the scrapes kept), each
   * with its rates: the points of the page's small charts. `t` is the interval's end.
   */
  series(windowMs: number, steps = 12): { t: number; rates: Rates }[] {
    const ends = new Set<number>();
    let newest = -Infinity;
    for (const h of this.#history.values()) if (h.length > 0) newest = Math.max(newest, h[h.length - 1]!.t);
    if (newest === -Infinity) return [];
    let oldest = Infinity;
    for (const h of this.#history.values()) if (h.length > 0) oldest = Math.min(oldest, h[0]!.t);
    // Young history: the steps cover what there is (but no step shorter than the scrape interval).
    const step = Math.max(Math.min(windowMs, newest - oldest) / steps, this.#o.minIntervalMs);
    for (let i = 0; i < steps; i++) ends.add(newest - i * step);
    const out: { t: number; rates: Rates }[] = [];
    for (const end of [...ends].sort((x, y) => x - y)) {
      const r: Rates = { requests: [], buckets: [], tcp: [] };
      let any = false;
      for (const h of this.#history.values()) {
        const b = [...h].reverse().find((x) => x.t <= end + 1);
        const a = b === undefined ? undefined : [...h].reverse().find((x) => x.t <= end - step + 1 && x.t < b.t) ?? h.find((x) => x.t < b.t && x.t >= end - step);
        if (a === undefined || b === undefined) continue;
        any = true;
        deltas(a, b, r);
      }
      if (any) out.push({ t: end, rates: r });
    }
    return out;
  }
}

function deltas(a: Scrape, b: Scrape, out: Rates): void {
  const dt = (b.t - a.t) / 1000;
  if (dt <= 0) return;
  for (const [k, s] of b.series) {
    const old = a.series.get(k)?.value ?? 0;
    // A counter that went down was reset (proxy restart): count from zero.
    const delta = s.value >= old ? s.value - old : s.value;
    const row = { labels: s.labels, value: delta / dt };
    (s.name === 'istio_requests_total' ? out.requests : s.name === 'istio_tcp_connections_opened_total' ? out.tcp : out.buckets).push(row);
  }
}
