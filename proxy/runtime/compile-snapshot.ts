/**
 * Turns a validated ProxySnapshot into the runtime the listeners use: listener lookup
 * tables, compiled route tables, and one composed handler per route. Runs once per
 * snapshot; the result is swapped in atomically and never mutated afterwards.
 */
import type { Listener, Locality, ProxySnapshot, Route, TcpRoute } from '../../common/snapshot.ts';
import type { Random } from '../../common/clock.ts';
import { compose } from '../chain/compose.ts';
import type { ClusterRuntime, DestinationRuntime, Feature, Handler, RouteRuntime } from '../chain/types.ts';
import { builtinFeatures } from '../features/index.ts';
import { directResponseTerminal, redirectTerminal } from '../features/local-actions.ts';
import { compileHeaderOps } from '../http/headers.ts';
import { compileRouteTable, type CompiledRouteTable } from '../routing/compile.ts';
import { compilePathRewrite } from '../routing/rewrite.ts';
import { weightedPicker, type WeightedPicker } from '../routing/weighted.ts';
import { forwardTerminal } from '../upstream/forward.ts';
import { upgradeTerminal } from '../upstream/upgrade-terminal.ts';
import { PoolRegistry } from '../upstream/pools.ts';
import { appCluster, compileCluster } from './clusters.ts';

export interface CompileOptions {
  pools: PoolRegistry;
  random: Random;
  /** Locality of this proxy, for locality-prioritised balancing. */
  locality?: Locality;
  /** Where the inbound listener finds the app (127.0.0.1 by default). */
  appHost: string;
  /** Source address of inbound forwards (127.0.0.6), or undefined to let the kernel choose. */
  inboundSource: string | undefined;
  /** Features to compose (defaults to the built-ins). */
  features?: Feature[];
  /** The inbound security step (XFCC + authz) built for a snapshot, slotted into the built-ins. */
  security?: (s: ProxySnapshot) => Feature;
}

export interface RouteEntry {
  runtime: RouteRuntime;
  handler: Handler;
  /** The same features around the WebSocket/Upgrade splicing terminal. */
  upgradeHandler: Handler;
  pick: WeightedPicker<DestinationRuntime> | undefined;
}

export interface TcpRouteRuntime {
  route: TcpRoute;
  pick: WeightedPicker<{ weight: number; cluster: ClusterRuntime }>;
}

export interface ListenerRuntime {
  listener: Listener;
  table: CompiledRouteTable | undefined;
  tcpRoutes: TcpRouteRuntime[];
  /** Inbound listeners without a route table: the route to the app. */
  appRoute: RouteEntry | undefined;
  appCluster: ClusterRuntime | undefined;
}

export interface SnapshotRuntime {
  snapshot: ProxySnapshot;
  appliedAt: Date;
  outboundByAddress: Map<string, ListenerRuntime>;
  outboundByPort: Map<number, ListenerRuntime>;
  inboundByPort: Map<number, ListenerRuntime>;
  routes: Map<Route, RouteEntry>;
  clusters: Map<string, ClusterRuntime>;
  poolKeys: Set<string>;
}

const NO_RETRY = { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retryRemoteLocalities: false, backoffBaseMs: 25 };

function routeEntry(route: Route, vhost: string, clusters: Map<string, ClusterRuntime>, features: Feature[], terminal: { http: Handler; upgrade: Handler }): RouteEntry {
  const destinations: DestinationRuntime[] = route.action.kind === 'forward'
    ? route.action.destinations.map((w) => ({ weighted: w, cluster: clusters.get(w.cluster)!, request: compileHeaderOps(w.headers?.request), response: compileHeaderOps(w.headers?.response) }))
    : [];
  const runtime: RouteRuntime = {
    route,
    virtualHost: vhost,
    destinations,
    rewritePath: compilePathRewrite(route.rewrite),
    mirrors: (route.mirrors ?? []).map((m) => ({ cluster: clusters.get(m.cluster)!, percentage: m.percentage })),
    requestHeaders: compileHeaderOps(route.headers?.request),
    responseHeaders: compileHeaderOps(route.headers?.response),
  };
  const a = route.action;
  const local = a.kind === 'redirect' ? redirectTerminal(a.redirect) : a.kind === 'directResponse' ? directResponseTerminal(a.status, a.body) : undefined;
  const pick = destinations.length === 0 ? undefined : weightedPicker(destinations.map((d) => Object.assign(d, { weight: d.weighted.weight })));
  return { runtime, handler: compose(features, local ?? terminal.http, runtime), upgradeHandler: compose(features, local ?? terminal.upgrade, runtime), pick };
}

/** `previous`: the runtime being replaced; each cluster's counters and ejections carry over from it. */
export function compileSnapshot(s: ProxySnapshot, opts: CompileOptions, previous?: SnapshotRuntime): SnapshotRuntime {
  const features = opts.features ?? builtinFeatures(opts.pools, opts.random, opts.security?.(s));
  const terminal = { http: forwardTerminal(opts.pools, opts.random), upgrade: upgradeTerminal(opts.random, opts.pools) };
  const sets = new Map(s.endpoints.map((e) => [e.name, e]));
  const clusters = new Map<string, ClusterRuntime>();
  for (const c of s.clusters) clusters.set(c.name, compileCluster(c, sets.get(c.endpointSet), opts.locality, undefined, previous?.clusters.get(c.name)));
  const tables = new Map(s.routes.map((t) => [t.name, compileRouteTable(t)]));
  const routes = new Map<Route, RouteEntry>();
  for (const t of s.routes) for (const vh of t.virtualHosts) for (const r of vh.routes) routes.set(r, routeEntry(r, vh.name, clusters, features, terminal));

  const rt: SnapshotRuntime = { snapshot: s, appliedAt: new Date(), outboundByAddress: new Map(), outboundByPort: new Map(), inboundByPort: new Map(), routes, clusters, poolKeys: new Set() };
  for (const l of s.listeners) {
    const lr: ListenerRuntime = {
      listener: l,
      table: l.routeTable === undefined ? undefined : tables.get(l.routeTable),
      tcpRoutes: (l.tcpRoutes ?? []).map((route) => ({ route, pick: weightedPicker(route.destinations.map((d) => ({ weight: d.weight, cluster: clusters.get(d.cluster)! }))) })),
      appRoute: undefined,
      appCluster: undefined,
    };
    if (l.direction === 'inbound') {
      const appPort = l.appPort ?? l.port;
      const source = opts.appHost.startsWith('127.') ? opts.inboundSource : undefined;
      const name = `inbound|${appPort}||`;
      const cl = appCluster(name, opts.appHost, appPort, l.protocol, l.provenance, source, previous?.clusters.get(name));
      lr.appCluster = cl;
      clusters.set(cl.cluster.name, cl);
      if (lr.table === undefined) {
        const route: Route = { name: l.name, match: [], action: { kind: 'forward', destinations: [{ cluster: cl.cluster.name, weight: 1 }] }, timeoutMs: 0, retries: NO_RETRY, provenance: l.provenance };
        lr.appRoute = routeEntry(route, l.name, clusters, features, terminal);
      }
      rt.inboundByPort.set(l.port, lr);
    } else if (l.address === '0.0.0.0' || l.address === '::') {
      rt.outboundByPort.set(l.port, lr);
    } else {
      rt.outboundByAddress.set(`${l.address}:${l.port}`, lr);
    }
  }
  for (const cl of clusters.values()) {
    for (const v of cl.h2Twin === undefined ? [cl] : [cl, cl.h2Twin]) for (const ep of v.endpoints) rt.poolKeys.add((ep.poolKey = PoolRegistry.keyOf(v, ep)));
  }
  return rt;
}

/** The outbound listener for an original destination (exact address first, then any address). */
export function outboundListener(rt: SnapshotRuntime, address: string | undefined, port: number): ListenerRuntime | undefined {
  if (address !== undefined) {
    const exact = rt.outboundByAddress.get(`${address}:${port}`);
    if (exact !== undefined) return exact;
  }
  return rt.outboundByPort.get(port);
}

/** The inbound listener for a destination port; with a single inbound listener, that one. */
export function inboundListener(rt: SnapshotRuntime, port: number | undefined): ListenerRuntime | undefined {
  if (port !== undefined) {
    const l = rt.inboundByPort.get(port);
    if (l !== undefined) return l;
  }
  if (rt.inboundByPort.size === 1) return rt.inboundByPort.values().next().value;
  return undefined;
}
