/** Terminals for routes that answer without an upstream: redirect and directResponse. */
import type { Handler, Headers } from '../chain/types.ts';
import type { Redirect } from '../../common/snapshot.ts';
import { redirectLocation } from '../routing/rewrite.ts';

export function redirectTerminal(r: Redirect): Handler {
  return (ctx) => {
    const location = redirectLocation(r, ctx.attrs, ctx.match);
    ctx.sink.start(r.redirectCode, { location, 'content-length': '0' });
    ctx.sink.end(undefined);
  };
}

export function directResponseTerminal(status: number, body: string | undefined): Handler {
  const buf = body === undefined ? undefined : Buffer.from(body);
  return (ctx) => {
    const h: Headers = { 'content-length': String(buf?.length ?? 0) };
    if (buf !== undefined) h['content-type'] = 'text/plain';
    ctx.sink.start(status, h);
    if (buf !== undefined) ctx.sink.data(buf, () => undefined);
    ctx.sink.end(undefined);
  };
}
