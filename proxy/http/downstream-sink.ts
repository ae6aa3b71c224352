/** The default ResponseSink: writes the upstream response to the downstream response. */
import type { DownstreamResponse, Headers, ProxyFailure, ResponseSink } from '../chain/types.ts';
import { addFlag } from '../chain/flags.ts';
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
      addFlag(ctx, f.flag);
      // After the status line went out the only honest signal left is to reset the stream.
      if (started || res.headersSent) res.destroy();
      else localReply(res, f.status, ctx.flags, f.code);
    },
  };
}
