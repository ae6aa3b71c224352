/**
 * Sampling and ids. ParentBased(TraceIdRatio): a parent's decision is kept, a root trace is
 * sampled when its trace id falls under the ratio (deterministic per trace id, so every
 * proxy of a trace agrees). The ratio can change on each snapshot without rebuilding the
 * provider. Ids come from an injectable random source so tests can be exact.
 */
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as SdkTraceBase from '@opentelemetry/sdk-trace-base';
import type { IdGenerator, Sampler, SamplingResult } from '@opentelemetry/sdk-trace-base';
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import type { Random } from '../../common/clock.ts';

const load = createRequire(import.meta.url);
/**
 * The OpenTelemetry SDK, loaded on first use: a proxy without a trace endpoint (the default)
 * never pays its memory (several MB of RSS) or load time.
 */
export function otelSdk(): typeof SdkTraceBase {
  return load('@opentelemetry/sdk-trace-base') as typeof SdkTraceBase;
}

/** Root decision for a trace id at `percent` (0–100): the SDK TraceIdRatioBasedSampler's rule, without allocating one. */
export function ratioSampled(traceId: string, percent: number): boolean {
  const ratio = percent >= 100 ? 1 : percent <= 0 ? 0 : percent / 100;
  const upper = ratio === 1 ? 0x100000000 : Math.floor(ratio * 0xffffffff);
  if (traceId.length !== 32 || traceId === ZERO_TRACE) return false;
  let acc = 0;
  for (let i = 0; i < 32; i += 8) {
    let part = 0;
    for (let j = 0; j < 8; j++) {
      const c = traceId.charCodeAt(i + j);
      part = (part << 4) | (c < 58 ? c - 48 : c < 71 ? c - 55 : c - 87);
    }
    acc = (acc ^ part) >>> 0;
  }
  return acc < upper;
}

const ZERO_TRACE = '0'.repeat(32);

/** Crypto-random ids from a pooled buffer (one randomFillSync per 512 ids instead of one call per id). */
export class PooledIdGenerator implements IdGenerator {
  readonly #buf = Buffer.alloc(8192);
  #off = 8192;
  #take(n: number): string {
    if (this.#off + n > this.#buf.length) {
      randomFillSync(this.#buf);
      this.#off = 0;
    }
    const s = this.#buf.toString('hex', this.#off, this.#off + n);
    this.#off += n;
    return s;
  }
  generateTraceId(): string {
    const id = this.#take(16);
    return id === ZERO_TRACE ? this.generateTraceId() : id;
  }
  generateSpanId(): string {
    const id = this.#take(8);
    return id === '0000000000000000' ? this.generateSpanId() : id;
  }
}

/** ParentBased(TraceIdRatio) whose ratio is replaced on config change. */
export class MeshSampler implements Sampler {
  // Built on first use (only the SDK calls shouldSample), so the SDK loads lazily.
  #inner: Sampler | undefined;
  #percent: number;
  constructor(percent: number) {
    this.#percent = percent;
  }
  static #build(percent: number): Sampler {
    const sdk = otelSdk();
    return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(Math.min(100, Math.max(0, percent)) / 100) });
  }
  get percent(): number {
    return this.#percent;
  }
  setPercent(percent: number): void {
    if (percent === this.#percent) return;
    this.#percent = percent;
    this.#inner = undefined;
  }
  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attrs: Attributes, links: Link[]): SamplingResult {
    this.#inner ??= MeshSampler.#build(this.#percent);
    return this.#inner.shouldSample(ctx, traceId, name, kind, attrs, links);
  }
  toString(): string {
    return `MeshSampler{${this.#percent}%}`;
  }
}

function hex32(random: Random): string {
  return Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
}

/** Ids from `random` (tests), or pooled crypto randomness. */
export function idGenerator(random?: Random): IdGenerator {
  if (random === undefined) return new PooledIdGenerator();
  return {
    generateTraceId: () => `${hex32(random)}${hex32(random)}${hex32(random)}${hex32(random)}`,
    generateSpanId: () => `${hex32(random)}${hex32(random)}`,
  };
}

/**
 * The provider's id generator, which hands out a trace id chosen beforehand: the proxy
 * decides a root's sampling on its trace id before asking the SDK for a span (so unsampled
 * requests never touch the SDK), and the sampled span must carry that same id.
 */
export class PresetIdGenerator implements IdGenerator {
  readonly inner: IdGenerator;
  next: string | undefined;
  constructor(inner: IdGenerator) {
    this.inner = inner;
  }
  generateTraceId(): string {
    const id = this.next ?? this.inner.generateTraceId();
    this.next = undefined;
    return id;
  }
  generateSpanId(): string {
    return this.inner.generateSpanId();
  }
}
