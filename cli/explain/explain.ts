/**
 * `meshlet explain`, pure: given the source proxy's snapshot and a request, which listener,
 * virtual host and route the proxy picks (and why earlier routes did not match), the
 * destinations with their subsets and endpoints, retries/timeout/fault, the transport
 * (auto mTLS) and, from each destination's own snapshot, its mTLS mode and the
 * AuthorizationPolicy decision. Matching, auto mTLS, PeerAuthentication port resolution and
 * authz evaluation are the proxy's own functions.
 */
import type { Cluster, ConnectionPool, Endpoint, Fault, Listener, OutlierDetection, Provenance, ProxySnapshot, RetryPolicy, RouteAction } from '../../common/snapshot.ts';
import { mtlsModeForPort } from '../../common/security/peer-auth.ts';
import { plainAttrs } from '../../proxy/routing/attrs.ts';
import { compileRouteTable } from '../../proxy/routing/compile.ts';
import { matchRoute } from '../../proxy/routing/match.ts';
import { compileAuthz } from '../../proxy/security/authz.ts';
import { compileJwt, type JwtOutcome } from '../../proxy/security/jwt.ts';
import { errorEntry } from '../../common/errors.ts';
import { upstreamTransport } from '../../proxy/security/auto-mtls.ts';
import { describeMatch, failedConditions } from './why.ts';

export interface ExplainRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
}

export interface RouteVerdict {
  index: number;
  name: string;
  matched: boolean;
  /** For a skipped route: per match, the conditions that failed. For the matched one: what matched. */
  why: string[];
  provenance: Provenance;
}

export interface EndpointExplained {
  address: string;
  port: number;
  healthy: boolean;
  workload?: string;
  identity?: string;
  /** How the source proxy talks to it: `mtls <identity>` or `plaintext`. */
  transport: string;
  /** Destination side, from its snapshot when known. */
  server?: {
    proxy: string;
    mtlsMode: string;
    mtlsProvenance: Provenance;
    /** Whether the connection is accepted under that mode. */
    accepted: boolean;
    /** The RequestAuthentication verdict, when one selects the destination. */
    jwt?: JwtVerdict;
    authz: { allowed: boolean; reason: string; policy?: string; provenance?: Provenance };
  };
}

/** What the destination's JWT step makes of the request's token. */
export interface JwtVerdict {
  result: 'verified' | 'no-token' | 'refused';
  /** Verified: the request principal; refused: Envoy's text and the catalog code. */
  principal?: string;
  reason?: string;
  code?: string;
  provenance?: Provenance;
}

function verdictOf(o: JwtOutcome): JwtVerdict {
  if (o.kind === 'none') return { result: 'no-token' };
  if (o.kind === 'ok') return { result: 'verified', principal: o.auth.principal, provenance: o.rule.provenance };
  const v: JwtVerdict = { result: 'refused', reason: `${errorEntry(o.code).message}: ${o.detail}`, code: o.code };
  if (o.rule !== undefined) v.provenance = o.rule.provenance;
  return v;
}

/** JWT outcomes by destination proxy id (computed ahead: verification is asynchronous). */
type JwtOutcomes = Map<string, JwtOutcome>;

export interface DestinationExplained {
  cluster: string;
  service: string;
  subset?: string;
  weight: number;
  percent: number;
  provenance: Provenance;
  loadBalancer: string;
  connectionPool: ConnectionPool;
  outlierDetection?: OutlierDetection;
  endpoints: EndpointExplained[];
}

export interface Explanation {
  proxy: { id: string; spiffeId: string; ip: string; version: string };
  request: { method: string; url: string; authority: string; port: number; headers: Record<string, string> };
  outcome: 'forward' | 'redirect' | 'directResponse' | 'tcp' | 'no-listener' | 'no-virtual-host' | 'no-route' | 'passthrough';
  /** What the user sees for a local reply (NR etc.). */
  reply?: string;
  listener?: { name: string; provenance: Provenance };
  virtualHost?: { name: string; provenance: Provenance };
  routes: RouteVerdict[];
  route?: { name: string; provenance: Provenance; timeoutMs: number; retries: RetryPolicy; fault?: Fault; mirrors: string[]; action: RouteAction['kind'] };
  destinations: DestinationExplained[];
}

/** Finds the destination's snapshot for an endpoint (by address), when known. */
export type DestinationLookup = (endpoint: Endpoint) => ProxySnapshot | undefined;

function outboundListenerFor(s: ProxySnapshot, port: number): Listener | undefined {
  // Explicit-proxy requests carry no original destination: the port picks the listener (as the proxy does).
  return s.listeners.find((l) => l.direction === 'outbound' && (l.address === '0.0.0.0' || l.address === '::') && l.port === port);
}

function endpointExplained(src: ProxySnapshot, c: Cluster, e: Endpoint, req: Explanation['request'], lookup: DestinationLookup | undefined, jwt: JwtOutcomes | undefined): EndpointExplained {
  const t = upstreamTransport(c.tls, e);
  const out: EndpointExplained = {
    address: e.address, port: e.port, healthy: e.healthy,
    transport: t.kind === 'mtls' ? `mtls ${t.identity ?? '(any identity in the trust domain)'}` : t.kind === 'plaintext' ? 'plaintext' : `tls ${t.mode}`,
  };
  if (e.workload !== undefined) out.workload = `${e.workload.name}.${e.workload.namespace}`;
  if (e.identity !== undefined) out.identity = e.identity;
  const dst = lookup?.(e);
  if (dst !== undefined) {
    const mode = mtlsModeForPort(dst.security.peerAuthentication, e.port);
    const mtls = t.kind === 'mtls';
    const accepted = mode === 'STRICT' ? mtls : mode === 'DISABLE' ? !mtls : true;
    const o = jwt?.get(dst.proxy.id);
    const d = compileAuthz(dst.security.authorization).evaluate({
      http: true, sourceIp: src.proxy.ip, destinationIp: e.address, destinationPort: e.port,
      ...(mtls ? { principal: src.proxy.spiffeId } : {}),
      ...(o?.kind === 'ok' ? { auth: o.auth } : {}),
      method: req.method, path: new URL(req.url).pathname, host: req.authority, header: (n) => req.headers[n.toLowerCase()],
    });
    const authz: NonNullable<EndpointExplained['server']>['authz'] = { allowed: d.allowed, reason: d.reason };
    if (d.policy !== undefined) authz.policy = d.policy;
    if (d.provenance !== undefined) authz.provenance = d.provenance;
    out.server = { proxy: dst.proxy.id, mtlsMode: mode, mtlsProvenance: dst.security.peerAuthentication.provenance, accepted, authz };
    if (o !== undefined) out.server.jwt = verdictOf(o);
  }
  return out;
}

/**
 * `explain` plus the destinations' RequestAuthentication verdicts: the token in the request
 * is verified with each destination's own rules (the proxy's jwt.ts) and its principal and
 * claims feed that destination's AuthorizationPolicy decision.
 */
export async function explainWithJwt(s: ProxySnapshot, r: ExplainRequest, lookup?: DestinationLookup): Promise<Explanation> {
  const first = explain(s, r, lookup);
  const outcomes: JwtOutcomes = new Map();
  const headers = first.request.headers;
  const query = new URL(first.request.url).searchParams;
  for (const d of first.destinations) {
    for (const ep of d.endpoints) {
      const dst = ep.server === undefined ? undefined : lookup?.({ address: ep.address, port: ep.port } as Endpoint);
      if (dst === undefined || outcomes.has(dst.proxy.id)) continue;
      const jwt = compileJwt(dst.security.requestAuthentication);
      if (jwt !== undefined) outcomes.set(dst.proxy.id, await jwt.authenticate({ header: (n) => headers[n], queryParam: (n) => query.get(n) ?? undefined }));
    }
  }
  return outcomes.size === 0 ? first : explain(s, r, lookup, outcomes);
}

export function explain(s: ProxySnapshot, r: ExplainRequest, lookup?: DestinationLookup, jwt?: JwtOutcomes): Explanation {
  const u = new URL(r.url);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  const port = u.port === '' ? (scheme === 'https' ? 443 : 80) : Number(u.port);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  const method = (r.method ?? 'GET').toUpperCase();
  const request = { method, url: u.href, authority: u.host, port, headers };
  const ex: Explanation = { proxy: { id: s.proxy.id, spiffeId: s.proxy.spiffeId, ip: s.proxy.ip, version: s.version }, request, outcome: 'no-listener', routes: [], destinations: [] };
  const listener = outboundListenerFor(s, port);
  if (listener === undefined) {
    ex.outcome = 'passthrough';
    ex.reply = `no outbound listener for port ${port}: passed through as TCP to the address as given (ALLOW_ANY)`;
    return ex;
  }
  ex.listener = { name: listener.name, provenance: listener.provenance };
  const table = s.routes.find((t) => t.name === listener.routeTable);
  if (table === undefined) {
    ex.outcome = 'tcp';
    const tcp = listener.tcpRoutes?.[0];
    if (tcp !== undefined) ex.destinations = destinations(s, tcp.destinations, request, lookup, undefined);
    return ex;
  }
  const attrs = plainAttrs({ method, url: `${u.pathname}${u.search}`, authority: u.host, port, scheme, headers });
  const compiled = compileRouteTable(table);
  const res = matchRoute(compiled, attrs);
  const vhost = res.ok ? res.vhost : res.vhost;
  if (vhost === undefined) {
    ex.outcome = 'no-virtual-host';
    ex.reply = `404 NR (MESHLET_PROXY_NO_ROUTE): no virtual host in route table ${table.name} answers for "${u.host}"`;
    return ex;
  }
  ex.virtualHost = { name: vhost.vhost.name, provenance: vhost.vhost.provenance };
  for (const cr of vhost.routes) {
    const matchedHere = res.ok && res.route === cr;
    const why = matchedHere ? [describeMatch(res.match)] : cr.route.match.map((m, i) => `match ${m.name ?? i + 1}: ${failedConditions(m, attrs).join('; ') || 'matches'}`);
    ex.routes.push({ index: cr.index, name: cr.route.name, matched: matchedHere, why, provenance: cr.route.provenance });
    if (matchedHere) break;
  }
  if (!res.ok) {
    ex.outcome = 'no-route';
    ex.reply = '404 NR (MESHLET_PROXY_NO_ROUTE): no route of the virtual host matches';
    return ex;
  }
  const route = res.route.route;
  ex.outcome = route.action.kind;
  ex.route = { name: route.name, provenance: route.provenance, timeoutMs: route.timeoutMs, retries: route.retries, mirrors: (route.mirrors ?? []).map((m) => `${m.cluster} ${m.percentage}%`), action: route.action.kind };
  if (route.fault !== undefined) ex.route.fault = route.fault;
  if (route.action.kind === 'forward') ex.destinations = destinations(s, route.action.destinations, request, lookup, jwt);
  else if (route.action.kind === 'redirect') ex.reply = `${route.action.redirect.redirectCode} redirect`;
  else ex.reply = `${route.action.status} direct response`;
  return ex;
}

function destinations(s: ProxySnapshot, ws: { cluster: string; weight: number }[], req: Explanation['request'], lookup: DestinationLookup | undefined, jwt: JwtOutcomes | undefined): DestinationExplained[] {
  const live = ws.filter((w) => w.weight > 0);
  const total = live.reduce((n, w) => n + w.weight, 0);
  return ws.map((w) => {
    const c = s.clusters.find((x) => x.name === w.cluster);
    const set = s.endpoints.find((e) => e.name === c?.endpointSet);
    const d: DestinationExplained = {
      cluster: w.cluster, service: c?.service ?? '?', weight: w.weight,
      // A single live destination takes everything whatever its weight (as the proxy's picker does).
      percent: w.weight <= 0 ? 0 : live.length === 1 ? 100 : Math.round((w.weight / total) * 1000) / 10,
      provenance: c?.provenance ?? { kind: 'unknown', namespace: '', name: w.cluster },
      loadBalancer: c?.loadBalancer.policy ?? '?',
      connectionPool: c?.connectionPool as ConnectionPool,
      endpoints: c === undefined ? [] : (set?.endpoints ?? []).map((e) => endpointExplained(s, c, e, req, lookup, jwt)),
    };
    if (c?.subset !== undefined) d.subset = c.subset;
    if (c?.outlierDetection !== undefined) d.outlierDetection = c.outlierDetection;
    return d;
  });
}
