/**
 * Metric families whose children are plain number slots, registered in a prom-client
 * Registry (which formats them on scrape). prom-client's own `labels()` children re-hash
 * and re-validate the whole label set on every `inc()`; with Istio's 25 labels that is the
 * dominant per-request cost, so the hot path here is one addition (counter) or a bucket
 * search plus three additions (histogram). Children are created on first use of a label set
 * and live as long as the family (counters must never go backwards).
 */
import { Registry, type MetricObjectWithValues, type MetricValue, type MetricValueWithName } from 'prom-client';

type Labels = Record<string, string>;

const noop = (): void => undefined;

/** `k="v",…` with Prometheus escaping; computed once per child (label values never change). */
export function labelText(labels: Labels): string {
  let out = '';
  for (const k in labels) out += `${out === '' ? '' : ','}${k}="${labels[k]!.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;
  return out;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}`;
}

/** Lines rendered between two yields to the event loop during a scrape. */
const SLICE = 200;
const yieldLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

function keyOf(labels: Labels): string {
  let k = '';
  for (const name in labels) k += `${labels[name]}\u0000`;
  return k;
}

export class CounterChild {
  value = 0;
  readonly labels: Labels;
  text: string | undefined;
  constructor(labels: Labels) {
    this.labels = labels;
  }
  inc(n = 1): void {
    this.value += n;
  }
}

export class CounterFamily {
  readonly name: string;
  readonly help: string;
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #children = new Map<string, CounterChild>();
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  /** The child for a label set; label order must be the same for every call of a family. */
  child(labels: Labels): CounterChild {
    const k = keyOf(labels);
    let c = this.#children.get(k);
    if (c === undefined) this.#children.set(k, (c = new CounterChild(labels)));
    return c;
  }
  get size(): number {
    return this.#children.size;
  }
  async get(): Promise<MetricObjectWithValues<MetricValue<string>>> {
    const values: MetricValue<string>[] = [];
    for (const c of this.#children.values()) values.push({ value: c.value, labels: c.labels });
    return { name: this.name, help: this.help, type: 'counter' as never, aggregator: 'sum', collect: noop, values };
  }
  /** The exposition text of the family, with label strings rendered once per child. */
  /**
   * Writes the family's exposition in slices of SLICE children, yielding to the event loop
   * between slices, so a big scrape never holds requests up for long.
   */
  async renderTo(write: (chunk: string) => void | Promise<void>): Promise<void> {
    let lines = [header(this.name, this.help, 'counter')];
    for (const c of this.#children.values()) {
      lines.push(`${this.name}{${(c.text ??= labelText(c.labels))}} ${c.value}`);
      if (lines.length >= SLICE) {
        await write(`${lines.join('\n')}\n`);
        lines = [];
        await yieldLoop();
      }
    }
    if (lines.length > 0) await write(`${lines.join('\n')}\n`);
  }
  async renderText(): Promise<string> {
    const parts: string[] = [];
    await this.renderTo((c) => {
      parts.push(c);
    });
    return parts.join('').slice(0, -1);
  }
  reset(): void {
    for (const c of this.#children.values()) c.value = 0;
  }
}

export class HistogramChild {
  readonly labels: Labels;
  readonly #bounds: readonly number[];
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Rendered line prefixes (every bucket, +Inf, sum, count), built on first scrape. */
  prefixes: string[] | undefined;
  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.#bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]! += 1;
    this.sum += v;
    this.count += 1;
  }
}

export class HistogramFamily {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly buckets: readonly number[];
  readonly #children = new Map<string, HistogramChild>();
  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = buckets;
  }
  child(labels: Labels): HistogramChild {
    const k = keyOf(labels);
    let c = this.#children.get(k);
    if (c === undefined) this.#children.set(k, (c = new HistogramChild(labels, this.buckets)));
    return c;
  }
  get size(): number {
    return this.#children.size;
  }
  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    const bucketName = `${this.name}_bucket`;
    const les = this.buckets.map(String);
    for (const c of this.#children.values()) {
      let acc = 0;
      for (let i = 0; i < les.length; i++) {
        acc += c.counts[i]!;
        values.push({ metricName: bucketName, value: acc, labels: { ...c.labels, le: les[i]! } });
      }
      values.push({ metricName: bucketName, value: c.count, labels: { ...c.labels, le: '+Inf' } });
      values.push({ metricName: `${this.name}_sum`, value: c.sum, labels: c.labels });
      values.push({ metricName: `${this.name}_count`, value: c.count, labels: c.labels });
    }
    return { name: this.name, help: this.help, type: 'histogram' as never, aggregator: 'sum', collect: noop, values };
  }
  async renderTo(write: (chunk: string) => void | Promise<void>): Promise<void> {
    let lines = [header(this.name, this.help, 'histogram')];
    const n = this.buckets.length;
    let k = 0;
    for (const c of this.#children.values()) {
      let p = c.prefixes;
      if (p === undefined) {
        const t = labelText(c.labels);
        p = c.prefixes = [...this.buckets.map((b) => `${this.name}_bucket{${t},le="${b}"} `), `${this.name}_bucket{${t},le="+Inf"} `, `${this.name}_sum{${t}} `, `${this.name}_count{${t}} `];
      }
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += c.counts[i]!;
        lines.push(p[i]! + acc);
      }
      lines.push(p[n]! + c.count, p[n + 1]! + c.sum, p[n + 2]! + c.count);
      if (++k % 10 === 0) {
        await write(`${lines.join('\n')}\n`);
        lines = [];
        await yieldLoop();
      }
    }
    if (lines.length > 0) await write(`${lines.join('\n')}\n`);
  }
  async renderText(): Promise<string> {
    const parts: string[] = [];
    await this.renderTo((c) => {
      parts.push(c);
    });
    return parts.join('').slice(0, -1);
  }
  reset(): void {
    for (const c of this.#children.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}

/** Registers a family in a prom-client registry (it duck-types metrics by get/name/type). */
export function register(registry: Registry, family: CounterFamily | HistogramFamily): void {
  registry.registerMetric(family as unknown as Parameters<Registry['registerMetric']>[0]);
}

type Renderable = { renderText?: () => Promise<string>; renderTo?: (write: (chunk: string) => void | Promise<void>) => Promise<void> };

/**
 * A prom-client Registry that takes the pre-rendered text of the slot families (label
 * strings built once per child) instead of re-formatting every label of every line on
 * each scrape; other metrics (process/nodejs) go through prom-client's formatter.
 */
export class FastRegistry extends Registry {
  /** Streams one metric: slot families in slices, others through prom-client's formatter. */
  async writeMetric(metric: unknown, write: (chunk: string) => void | Promise<void>): Promise<void> {
    const r = (metric as Renderable).renderTo;
    if (typeof r === 'function') return r.call(metric, write);
    await write(`${await this.getMetricsAsString(metric)}\n`);
  }
  async getMetricsAsString(metric: unknown): Promise<string> {
    const r = (metric as Renderable).renderText;
    if (typeof r === 'function') return r.call(metric);
    return (Registry.prototype as unknown as { getMetricsAsString(m: unknown): Promise<string> }).getMetricsAsString.call(this, metric);
  }
}
