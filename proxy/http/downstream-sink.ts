/** The default ResponseSink: writes the upstream response to the downstream response. */
import type { DownstreamResponse, Headers, ProxyFailure, RequestContext, ResponseSink } from '../chain/types.ts';
import { localReply } from './local-reply.ts';

/**
 * Closures rather than a class on purpose: features wrap a sink by copying its members
 * (`data: inner.data`), which must keep working unbound.
 */
export function downstreamSink(ctx: { res: DownstreamResponse; flags: string }): ResponseSink {
  const res = ctx.res;
  return {
    start(status, headers) {
      res.writeHead(status, headers);
    },
    data(chunk, resume) {
      if (res.write(chunk)) return true;
      res.once('drain', resume);
      return false;
    },
    end(trailers: Headers | undefined) {
      if (trailers !== undefined) {
        for (const _ in trailers) {
          res.addTrailers(trailers as Record<string, string>);
          break;
        }
      }
      res.end();
    },
    fail(f: ProxyFailure, started: boolean) {
      if (f.flag !== '') ctx.flags = ctx.flags === '' ? f.flag : `${ctx.flags},${f.flag}`;
      // After the status line went out the only honest signal left is to reset the stream.
      if (started || res.headersSent) res.destroy();
      else localReply(res, f.status, ctx.flags, f.code, f.headers);
    },
  };
}

/** Adds a flag to a context. */
export function addFlag(ctx: RequestContext, flag: string): void {
  ctx.flags = ctx.flags === '' ? flag : `${ctx.flags},${flag}`;
}
