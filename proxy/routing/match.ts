/** First-match-wins route selection (pure). */
import type { RouteMatch } from '../../common/snapshot.ts';
import type { RequestAttrs } from './attrs.ts';
import type { CompiledRoute, CompiledRouteTable, CompiledVirtualHost } from './compile.ts';

export type RouteResult =
  | { ok: true; vhost: CompiledVirtualHost; route: CompiledRoute; match: RouteMatch | undefined }
  | { ok: false; reason: 'no-virtual-host' | 'no-route'; vhost?: CompiledVirtualHost };

/** Picks the virtual host by authority, then the first route with any matching match. */
export function matchRoute(table: CompiledRouteTable, attrs: RequestAttrs): RouteResult {
  const vhost = table.domains.find(attrs.authority);
  if (vhost === undefined) return { ok: false, reason: 'no-virtual-host' };
  const route = matchInVirtualHost(vhost, attrs);
  if (route === undefined) return { ok: false, reason: 'no-route', vhost };
  return { ok: true, vhost, route: route.route, match: route.match };
}

export function matchInVirtualHost(vhost: CompiledVirtualHost, attrs: RequestAttrs): { route: CompiledRoute; match: RouteMatch | undefined } | undefined {
  for (const r of vhost.routes) {
    for (const m of r.matches) if (m.test(attrs)) return { route: r, match: m.source };
  }
  return undefined;
}
