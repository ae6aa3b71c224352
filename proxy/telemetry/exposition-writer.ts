/**
 * Writes Prometheus text into reused fixed-size byte chunks. A scrape of 50 services is
 * ~13 MB of text; built as JS strings it was tens of ms of CPU and 13 MB of V8 garbage per
 * scrape, and the garbage forced GC pauses onto requests (figures: proxy/telemetry/README.md). Here label text is encoded
 * once per series (a Buffer kept by the series), each line is a few memcpy's plus the value's
 * digits, and chunks go back to a free list once the socket has taken them, so a scrape
 * leaves next to no garbage. `pump()` hands full chunks to the sink and yields to the event
 * loop, so no slice of a scrape holds requests up for more than one chunk's worth of work.
 */

/** Receives a filled chunk; resolves once the chunk's bytes are no longer needed (written out). */
export type ChunkSink = (chunk: Buffer) => Promise<void>;

/** 64 KiB: ~90 histogram lines of Istio's 25 labels between two yields. */
export const CHUNK_BYTES = 64 * 1024;
/** Chunks handed to the sink and not yet released; more waits (back-pressure from a slow scraper). */
const MAX_IN_FLIGHT = 2;

const yieldLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export function numberText(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

export class ExpositionWriter {
  readonly #sink: ChunkSink;
  readonly #size: number;
  readonly #free: Buffer[] = [];
  readonly #full: Buffer[] = [];
  readonly #inFlight: Promise<void>[] = [];
  #buf: Buffer;
  #off = 0;
  /** The sink's first failure (scraper gone): every later pump/end throws it. */
  #error: Error | undefined;
  constructor(sink: ChunkSink, size = CHUNK_BYTES) {
    this.#sink = sink;
    this.#size = size;
    this.#buf = Buffer.allocUnsafeSlow(size);
  }

  /** Queues the filled part of the current chunk for the sink. */
  #seal(): void {
    if (this.#off > 0) this.#full.push(this.#buf.subarray(0, this.#off));
    this.#off = 0;
  }

  /** Room for `n` more bytes in the current chunk (a new chunk when not). */
  #room(n: number): void {
    if (this.#off + n <= this.#buf.length) return;
    this.#seal();
    this.#buf = n > this.#size ? Buffer.allocUnsafeSlow(n) : (this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#size));
  }

  bytes(b: Buffer): void {
    this.#room(b.length);
    b.copy(this.#buf, this.#off);
    this.#off += b.length;
  }

  text(s: string): void {
    this.#room(Buffer.byteLength(s));
    this.#off += this.#buf.write(s, this.#off, 'utf8');
  }

  /** A sample value as Prometheus spells it (`+Inf`, `NaN`, shortest round-trip decimal). */
  num(v: number): void {
    const s = numberText(v);
    this.#room(s.length);
    this.#off += this.#buf.write(s, this.#off, 'latin1');
  }

  /** One byte (`\n`, `,`, a space). */
  byte(c: number): void {
    this.#room(1);
    this.#buf[this.#off++] = c;
  }

  /** Whether chunks are waiting: the renderer calls `pump()` then. */
  get pending(): boolean {
    return this.#full.length > 0;
  }

  /** Hands full chunks to the sink, waits while too many are in flight, yields to the event loop. */
  async pump(): Promise<void> {
    while (this.#full.length > 0 && this.#error === undefined) {
      const chunk = this.#full.shift()!;
      const reusable = chunk.buffer.byteLength === this.#size ? Buffer.from(chunk.buffer, chunk.byteOffset, this.#size) : undefined;
      // Failures are kept, never left as unhandled rejections of chunks nobody awaits.
      this.#inFlight.push(this.#sink(chunk).then(
        () => { if (reusable !== undefined) this.#free.push(reusable); },
        (err: unknown) => { this.#error ??= err instanceof Error ? err : new Error(String(err)); },
      ));
      if (this.#inFlight.length > MAX_IN_FLIGHT) await this.#inFlight.shift();
    }
    await yieldLoop();
    if (this.#error !== undefined) throw this.#error;
  }

  /** Sends what is left and waits until the sink has taken everything. */
  async end(): Promise<void> {
    this.#seal();
    await this.pump();
    await Promise.all(this.#inFlight.splice(0));
    if (this.#error !== undefined) throw this.#error;
  }
}

/** Collects a whole exposition as a string (for `registry.metrics()` and tests). */
export async function collectText(render: (w: ExpositionWriter) => Promise<void>): Promise<string> {
  const parts: Buffer[] = [];
  const w = new ExpositionWriter(async (chunk) => {
    parts.push(Buffer.from(chunk));
  });
  await render(w);
  await w.end();
  return Buffer.concat(parts).toString('utf8');
}
