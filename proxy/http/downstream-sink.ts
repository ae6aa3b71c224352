/** The default ResponseSink: writes the upstream response to the downstream response. */
import type { DownstreamResponse, Headers, ProxyFailure, ResponseSink, Resumable } from '../chain/types.ts';
import { addFlag } from '../chain/flags.ts';
import { localReply } from './local-reply.ts';

/** One object per request, no closures (only a wait for drain makes one). */
class DownstreamSink implements ResponseSink {
  readonly #ctx: { res: DownstreamResponse; flags: string };
  constructor(ctx: { res: DownstreamResponse; flags: string }) {
    this.#ctx = ctx;
  }
  start(status: number, headers: Headers): void {
    this.#ctx.res.writeHead(status, headers);
  }
  data(chunk: Buffer, source: Resumable): boolean {
    const res = this.#ctx.res;
    if (res.write(chunk)) return true;
    res.once('drain', () => source.resume());
    return false;
  }
  end(trailers: Headers | undefined): void {
    const res = this.#ctx.res;
    if (trailers !== undefined) {
      for (const _ in trailers) {
        res.addTrailers(trailers as Record<string, string>);
        break;
      }
    }
    res.end();
  }
  fail(f: ProxyFailure, started: boolean): void {
    const ctx = this.#ctx;
    const res = ctx.res;
    if (f.flag !== '') addFlag(ctx, f.flag);
    // After the status line went out the only honest signal left is to reset the stream.
    if (started || res.headersSent) res.destroy();
    else localReply(res, f.status, ctx.flags, f.code, f.headers);
  }
}

export function downstreamSink(ctx: { res: DownstreamResponse; flags: string }): ResponseSink {
  return new DownstreamSink(ctx);
}
