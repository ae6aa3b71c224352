/**
 * A request body recorded for replay: each attempt gets a fresh stream that plays what was
 * recorded so far, then follows the live body. Beyond `limit` bytes the recording stops and
 * the request can no longer be retried (Envoy's buffer limit); the current attempt keeps
 * streaming. Backpressure follows the current attempt only.
 */
import { PassThrough, type Readable } from 'node:stream';

/** Envoy's default per-connection buffer limit. */
export const RETRY_BUFFER_LIMIT = 1 << 20;

export class BodyTape {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private failed: Error | undefined;
  private current: PassThrough | undefined;
  private readonly src: Readable;
  private readonly limit: number;
  /** False once the body outgrew the limit. */
  replayable = true;

  constructor(src: Readable, limit = RETRY_BUFFER_LIMIT) {
    this.src = src;
    this.limit = limit;
    src.on('data', (c: Buffer) => {
      if (this.replayable) {
        this.size += c.length;
        if (this.size > this.limit) {
          this.replayable = false;
          this.chunks = [];
        } else {
          this.chunks.push(c);
        }
      }
      const p = this.current;
      if (p !== undefined && !p.destroyed && !p.write(c)) {
        src.pause();
        p.once('drain', () => {
          if (this.current === p) src.resume();
        });
      }
    });
    src.once('end', () => {
      this.ended = true;
      this.current?.end();
    });
    src.once('error', (err) => {
      this.failed = err;
      this.current?.destroy(err);
    });
  }

  /** A stream for the next attempt (the previous one is dropped). */
  player(): PassThrough {
    this.current?.destroy();
    const p = new PassThrough();
    p.on('error', () => undefined);
    for (const c of this.chunks) p.write(c);
    if (this.failed !== undefined) p.destroy(this.failed);
    else if (this.ended) p.end();
    this.current = p;
    if (this.src.isPaused()) this.src.resume();
    return p;
  }
}
