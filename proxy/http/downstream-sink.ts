/** The default ResponseSink: writes the upstream response to the downstream response. */
import type { DownstreamResponse, Headers, ProxyFailure, RequestContext, ResponseSink } from '../chain/types.ts';
import { localReply } from './local-reply.ts';

/** A class, not closures: one small object per request on the hot path. */
class DownstreamSink implements ResponseSink {
  private readonly ctx: { res: DownstreamResponse; flags: string };
  constructor(ctx: { res: DownstreamResponse; flags: string }) {
    this.ctx = ctx;
  }
  start(status: number, headers: Headers): void {
    this.ctx.res.writeHead(status, headers);
  }
  data(chunk: Buffer, resume: () => void): boolean {
    const res = this.ctx.res;
    if (res.write(chunk)) return true;
    res.once('drain', resume);
    return false;
  }
  end(trailers: Headers | undefined): void {
    const res = this.ctx.res;
    if (trailers !== undefined) {
      for (const _ in trailers) {
        res.addTrailers(trailers as Record<string, string>);
        break;
      }
    }
    res.end();
  }
  fail(f: ProxyFailure, started: boolean): void {
    const ctx = this.ctx;
    ctx.flags = ctx.flags === '' ? f.flag : `${ctx.flags},${f.flag}`;
    // After the status line went out the only honest signal left is to reset the stream.
    if (started || ctx.res.headersSent) ctx.res.destroy();
    else localReply(ctx.res, f.status, ctx.flags, f.code);
  }
}

export function downstreamSink(ctx: { res: DownstreamResponse; flags: string }): ResponseSink {
  return new DownstreamSink(ctx);
}

/** Adds a flag to a context. */
export function addFlag(ctx: RequestContext, flag: string): void {
  ctx.flags = ctx.flags === '' ? flag : `${ctx.flags},${flag}`;
}
