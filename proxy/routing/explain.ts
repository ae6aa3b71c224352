/**
 * Why a request took the route it took (or none), for `meshlet explain`. Pure; uses the
 * same compiled table as the proxy, so the answer cannot drift from what the proxy does.
 */
import type { RequestAttrs } from './attrs.ts';
import type { CompiledRouteTable } from './compile.ts';

export interface RouteVerdict {
  route: string;
  index: number;
  /** Index of the first match that held, or -1. */
  matchedBy: number;
  /** Per match: the first field that failed (`uri`, `headers[x]`…), or null when it held. */
  failedFields: (string | null)[];
}

export interface Explanation {
  virtualHost: string | null;
  /** Name of the chosen route, or null (→ 404 NR). */
  chosen: string | null;
  /** Routes evaluated, in order, up to and including the chosen one. */
  routes: RouteVerdict[];
}

export function explainRoute(table: CompiledRouteTable, attrs: RequestAttrs): Explanation {
  const vh = table.domains.find(attrs.authority);
  if (vh === undefined) return { virtualHost: null, chosen: null, routes: [] };
  const routes: RouteVerdict[] = [];
  for (const r of vh.routes) {
    const failedFields = r.matches.map((m) => m.fields.find((f) => !f.test(attrs))?.field ?? null);
    const matchedBy = failedFields.indexOf(null);
    routes.push({ route: r.route.name, index: r.index, matchedBy, failedFields });
    if (matchedBy !== -1) return { virtualHost: vh.vhost.name, chosen: r.route.name, routes };
  }
  return { virtualHost: vh.vhost.name, chosen: null, routes };
}
