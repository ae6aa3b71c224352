/** Request/response header set/add/remove, at route level and per weighted destination. */
import type { Feature, Headers } from '../chain/types.ts';
import { applyHeaderOps } from '../http/headers.ts';

export const headerOpsFeature: Feature = (next, rt) => {
  const routeReq = rt.requestHeaders;
  const routeRes = rt.responseHeaders;
  const perDest = rt.destinations.some((d) => d.request !== undefined || d.response !== undefined);
  if (routeReq === undefined && routeRes === undefined && !perDest) return next;
  return (ctx) => {
    const dest = ctx.destination;
    if (routeReq !== undefined) applyHeaderOps(ctx.headers, routeReq);
    if (dest?.request !== undefined) applyHeaderOps(ctx.headers, dest.request);
    const destRes = dest?.response;
    if (routeRes !== undefined || destRes !== undefined) {
      const inner = ctx.sink;
      ctx.sink = {
        start(status: number, headers: Headers) {
          if (routeRes !== undefined) applyHeaderOps(headers, routeRes);
          if (destRes !== undefined) applyHeaderOps(headers, destRes);
          inner.start(status, headers);
        },
        // Bound: the inner sink may be a class instance.
        data: (chunk, source) => inner.data(chunk, source),
        end: (trailers) => inner.end(trailers),
        fail: (failure, started) => inner.fail(failure, started),
      };
    }
    next(ctx);
  };
};
