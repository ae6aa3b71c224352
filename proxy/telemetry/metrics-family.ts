/**
 * Metric families whose children are plain number slots, registered in a prom-client
 * Registry (which formats them on scrape). prom-client's own `labels()` children re-hash
 * and re-validate the whole label set on every `inc()`; with Istio's 25 labels that is the
 * dominant per-request cost, so the hot path here is one addition (counter) or a bucket
 * search plus three additions (histogram). Children are created on first use of a label set
 * and live as long as the family (counters must never go backwards).
 */
import type { MetricObjectWithValues, MetricValue, MetricValueWithName } from 'prom-client';
import { Registry } from './prom-lite.ts';
import { collectText, type ExpositionWriter } from './exposition-writer.ts';

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

const NL = 0x0a;
const COMMA = 0x2c;
/** `} ` between a series' labels and its value. */
const CLOSE = Buffer.from('} ');

/** A series' label text, encoded once (label values never change for a child). */
function labelBytes(labels: Labels): Buffer {
  return Buffer.from(labelText(labels));
}

/** The exposition of one family as a string (the writer collects it; no trailing newline). */
async function familyText(f: { renderTo(w: ExpositionWriter): Promise<void> }): Promise<string> {
  return (await collectText((w) => f.renderTo(w))).slice(0, -1);
}

function keyOf(labels: Labels): string {
  let k = '';
  for (const name in labels) k += `${labels[name]}\u0000`;
  return k;
}

export class CounterChild {
  value = 0;
  readonly labels: Labels;
  /** Label text as bytes, built on first scrape. */
  bytes: Buffer | undefined;
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
  #open: Buffer | undefined;
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
  /** Writes the family's exposition; the writer yields to the event loop between chunks. */
  async renderTo(w: ExpositionWriter): Promise<void> {
    w.text(header(this.name, this.help, 'counter'));
    w.byte(NL);
    const open = (this.#open ??= Buffer.from(`${this.name}{`));
    for (const c of this.#children.values()) {
      w.bytes(open);
      w.bytes((c.bytes ??= labelBytes(c.labels)));
      w.bytes(CLOSE);
      w.num(c.value);
      w.byte(NL);
      if (w.pending) await w.pump();
    }
  }
  renderText(): Promise<string> {
    return familyText(this);
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
  /** Label text as bytes, built on first scrape. */
  bytes: Buffer | undefined;
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
  /** Line openings shared by every child, encoded once. */
  #parts: { bucket: Buffer; les: Buffer[]; sum: Buffer; count: Buffer } | undefined;
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
  /** Writes the family's exposition; the writer yields to the event loop between chunks. */
  async renderTo(w: ExpositionWriter): Promise<void> {
    w.text(header(this.name, this.help, 'histogram'));
    w.byte(NL);
    const p = (this.#parts ??= {
      bucket: Buffer.from(`${this.name}_bucket{`),
      les: [...this.buckets.map((b) => Buffer.from(`le="${b}"} `)), Buffer.from('le="+Inf"} ')],
      sum: Buffer.from(`${this.name}_sum{`),
      count: Buffer.from(`${this.name}_count{`),
    });
    const n = this.buckets.length;
    for (const c of this.#children.values()) {
      const lab = (c.bytes ??= labelBytes(c.labels));
      let acc = 0;
      for (let i = 0; i <= n; i++) {
        acc = i < n ? acc + c.counts[i]! : c.count;
        w.bytes(p.bucket);
        if (lab.length > 0) {
          w.bytes(lab);
          w.byte(COMMA);
        }
        w.bytes(p.les[i]!);
        w.num(acc);
        w.byte(NL);
      }
      for (const [open, v] of [[p.sum, c.sum], [p.count, c.count]] as const) {
        w.bytes(open);
        w.bytes(lab);
        w.bytes(CLOSE);
        w.num(v);
        w.byte(NL);
      }
      if (w.pending) await w.pump();
    }
  }
  renderText(): Promise<string> {
    return familyText(this);
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

type Renderable = { renderText?: () => Promise<string>; renderTo?: (w: ExpositionWriter) => Promise<void> };

/**
 * A prom-client Registry that takes the slot families' own rendering (label bytes built once
 * per child) instead of re-formatting every label of every line on each scrape; other
 * metrics (process/nodejs) go through prom-client's formatter.
 */
export class FastRegistry extends Registry {
  /** Writes one metric: slot families chunk by chunk, others through prom-client's formatter. */
  async writeMetric(metric: unknown, w: ExpositionWriter): Promise<void> {
    const r = (metric as Renderable).renderTo;
    if (typeof r === 'function') return r.call(metric, w);
    w.text(await this.getMetricsAsString(metric));
    w.byte(NL);
  }
  async getMetricsAsString(metric: unknown): Promise<string> {
    const r = (metric as Renderable).renderText;
    if (typeof r === 'function') return r.call(metric);
    return (Registry.prototype as unknown as { getMetricsAsString(m: unknown): Promise<string> }).getMetricsAsString.call(this, metric);
  }
}
