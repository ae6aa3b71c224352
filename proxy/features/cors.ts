/**
 * Istio CorsPolicy as Envoy's CORS filter: a preflight from an allowed origin is answered
 * by the proxy (200, no forwarding); a simple request from an allowed origin gets the
 * allow/expose headers added to the upstream response. Other origins pass untouched.
 */
import type { Feature, Headers } from '../chain/types.ts';
import { compileStringMatch } from '../routing/string-match.ts';

export const corsFeature: Feature = (next, rt) => {
  const cors = rt.route.cors;
  if (cors === undefined) return next;
  const origins = cors.allowOrigins.map((m) => compileStringMatch(m));
  const allowed = (o: string): boolean => origins.some((t) => t(o));
  const methods = cors.allowMethods.join(',');
  const allowHeaders = cors.allowHeaders.join(',');
  const expose = cors.exposeHeaders.join(',');
  return (ctx) => {
    const origin = ctx.attrs.header('origin');
    if (origin === undefined || !allowed(origin)) {
      next(ctx);
      return;
    }
    if (ctx.attrs.method === 'OPTIONS' && ctx.attrs.header('access-control-request-method') !== undefined) {
      const h: Headers = { 'access-control-allow-origin': origin, 'content-length': '0' };
      if (methods !== '') h['access-control-allow-methods'] = methods;
      if (allowHeaders !== '') h['access-control-allow-headers'] = allowHeaders;
      if (cors.maxAgeSeconds !== undefined) h['access-control-max-age'] = String(cors.maxAgeSeconds);
      if (cors.allowCredentials === true) h['access-control-allow-credentials'] = 'true';
      ctx.res.writeHead(200, h);
      ctx.res.end();
      return;
    }
    const inner = ctx.sink;
    ctx.sink = {
      start(status, headers) {
        headers['access-control-allow-origin'] = origin;
        if (expose !== '') headers['access-control-expose-headers'] = expose;
        if (cors.allowCredentials === true) headers['access-control-allow-credentials'] = 'true';
        inner.start(status, headers);
      },
      // Bound: the inner sink may be a class instance.
      data: (chunk, source) => inner.data(chunk, source),
      end: (trailers) => inner.end(trailers),
      fail: (failure, started) => inner.fail(failure, started),
    };
    next(ctx);
  };
};
