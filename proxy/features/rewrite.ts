/** HTTPRewrite: path (prefix/whole/regex) and authority, before forwarding. */
import type { Feature } from '../chain/types.ts';

export const rewriteFeature: Feature = (next, rt) => {
  const rewritePath = rt.rewritePath;
  const authority = rt.route.rewrite?.authority;
  if (rewritePath === undefined && authority === undefined) return next;
  return (ctx) => {
    if (rewritePath !== undefined) {
      const newPath = rewritePath(ctx.attrs.path, ctx.match);
      if (newPath !== ctx.attrs.path) {
        ctx.headers['x-envoy-original-path'] = ctx.path;
        ctx.path = ctx.attrs.query === '' ? newPath : `${newPath}?${ctx.attrs.query}`;
      }
    }
    if (authority !== undefined) ctx.headers.host = authority;
    next(ctx);
  };
};
