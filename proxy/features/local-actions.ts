/** Terminals for routes that answer without an upstream: redirect and directResponse. */
import type { Handler, Headers, Resumable } from '../chain/types.ts';
import type { Redirect } from '../../common/snapshot.ts';
import { redirectLocation } from '../routing/rewrite.ts';

/** A local reply's body is written at once: nothing to resume. */
const NOT_PAUSABLE: Resumable = { resume: () => undefined };

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
    if (buf !== undefined) ctx.sink.data(buf, NOT_PAUSABLE);
    ctx.sink.end(undefined);
  };
}
