/**
 * Route tables compiled once per snapshot into predicate lists. Pure: no I/O, no clock;
 * `meshlet explain` reuses it with attrs built from the command line.
 */
import type { Route, RouteMatch, RouteTable, StringMatch, VirtualHost } from '../../common/snapshot.ts';
import type { RequestAttrs } from './attrs.ts';
import { buildDomainIndex, type DomainIndex } from './domains.ts';
import { compileStringMatch, type Matcher } from './string-match.ts';

type Predicate = (a: RequestAttrs) => boolean;

/** One field test of a match, labelled for `meshlet explain` (e.g. `headers[end-user]`). */
export interface FieldTest {
  field: string;
  test: Predicate;
}

/** One RouteMatch as a conjunction of predicates. */
export interface CompiledMatch {
  /** The source match (undefined for a route without matches, which matches everything). */
  source: RouteMatch | undefined;
  /** Every field set must hold. */
  test: Predicate;
  /** The same tests one by one, in evaluation order (explain only; the hot path uses `test`). */
  fields: FieldTest[];
}

export interface CompiledRoute {
  route: Route;
  /** Position in its virtual host. */
  index: number;
  /** Any one suffices; a route without matches gets one always-true entry. */
  matches: CompiledMatch[];
}

export interface CompiledVirtualHost {
  vhost: VirtualHost;
  routes: CompiledRoute[];
}

export interface CompiledRouteTable {
  table: RouteTable;
  domains: DomainIndex<CompiledVirtualHost>;
}

function headerPredicates(map: Record<string, StringMatch> | undefined, invert: boolean, out: FieldTest[]): void {
  if (map === undefined) return;
  for (const [rawName, m] of Object.entries(map)) {
    const name = rawName.toLowerCase();
    const test: Matcher = compileStringMatch(m);
    // withoutHeaders (inverted): an absent header does not match, so the inverted test holds.
    out.push({
      field: `${invert ? 'withoutHeaders' : 'headers'}[${name}]`,
      test: invert ? (a) => { const v = a.header(name); return v === undefined || !test(v); } : (a) => { const v = a.header(name); return v !== undefined && test(v); },
    });
  }
}

/** Compiles one Istio HTTPMatchRequest into a single predicate (fields ANDed). */
export function compileMatch(m: RouteMatch): CompiledMatch {
  const fields: FieldTest[] = [];
  if (m.uri !== undefined) {
    const t = compileStringMatch(m.uri, m.ignoreUriCase === true);
    fields.push({ field: 'uri', test: (a) => t(a.path) });
  }
  if (m.scheme !== undefined) {
    const t = compileStringMatch(m.scheme);
    fields.push({ field: 'scheme', test: (a) => t(a.scheme) });
  }
  if (m.method !== undefined) {
    const t = compileStringMatch(m.method);
    fields.push({ field: 'method', test: (a) => t(a.method) });
  }
  if (m.authority !== undefined) {
    const t = compileStringMatch(m.authority);
    fields.push({ field: 'authority', test: (a) => t(a.authority) });
  }
  if (m.port !== undefined) {
    const port = m.port;
    fields.push({ field: 'port', test: (a) => a.port === port });
  }
  headerPredicates(m.headers, false, fields);
  headerPredicates(m.withoutHeaders, true, fields);
  if (m.queryParams !== undefined) {
    for (const [name, qm] of Object.entries(m.queryParams)) {
      const t = compileStringMatch(qm);
      fields.push({ field: `queryParams[${name}]`, test: (a) => { const v = a.queryParam(name); return v !== undefined && t(v); } });
    }
  }
  // sourceLabels / sourceNamespace were applied by translation for this proxy: nothing to test here.
  const preds = fields.map((f) => f.test);
  const test: Predicate = preds.length === 0 ? () => true : preds.length === 1 ? preds[0]! : (a) => { for (const p of preds) if (!p(a)) return false; return true; };
  return { source: m, test, fields };
}

export function compileRoute(route: Route, index: number): CompiledRoute {
  const matches = route.match.length === 0 ? [{ source: undefined, test: () => true, fields: [] }] : route.match.map(compileMatch);
  return { route, index, matches };
}

export function compileRouteTable(table: RouteTable): CompiledRouteTable {
  const vhosts = table.virtualHosts.map((vhost) => ({ vhost, routes: vhost.routes.map(compileRoute) }));
  return { table, domains: buildDomainIndex(vhosts.map((v) => ({ domains: v.vhost.domains, value: v }))) };
}
