/**
 * Outbound listeners and route tables. HTTP-ish ports share one `outbound|<port>` listener
 * on 0.0.0.0 whose route table has a virtual host per visible service on that port; TCP
 * and TLS ports get a listener per service (on its cluster IP when it has one).
 */
import type { Cluster, EndpointSet, Listener, Protocol, Route, RouteTable, TcpRoute, VirtualHost, WeightedCluster } from '../../common/snapshot.ts';
import type { ServicePort, WorldService } from '../world/types.ts';
import { labelsMatch } from '../world/workloads.ts';
import { ensureCluster, ensureServiceClusters } from './clusters.ts';
import { weightedClusters } from './destinations.ts';
import { convertHttpRoute, defaultRetries } from './http-routes.ts';
import { virtualServicesFor, matchBoundToMesh } from './virtual-services.ts';
import type { IstioL4Match } from './istio-types.ts';
import type { Ctx } from './context.ts';

const HTTPISH = new Set<Protocol>(['http', 'http2', 'grpc', 'auto']);

function domains(ctx: Ctx, svc: WorldService, port: number): string[] {
  const { name, namespace } = svc.meta;
  const names = [...(namespace === ctx.proxy.namespace ? [name] : []), `${name}.${namespace}`, `${name}.${namespace}.svc`, svc.hostname, ...(svc.clusterIP !== undefined ? [svc.clusterIP] : [])];
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

function defaultRoute(svc: WorldService, cluster: string): Route {
  return {
    name: 'default',
    match: [],
    action: { kind: 'forward', destinations: [{ cluster, weight: 100 }] },
    timeoutMs: 0,
    retries: defaultRetries(),
    provenance: { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name },
  };
}

function virtualHost(ctx: Ctx, svc: WorldService, port: ServicePort): VirtualHost {
  const vss = virtualServicesFor(ctx, svc);
  const routes: Route[] = [];
  for (const vs of vss) {
    const prov = { kind: 'VirtualService', namespace: vs.meta.namespace, name: vs.meta.name };
    (vs.spec.http ?? []).forEach((r, i) => {
      const route = convertHttpRoute(ctx, r, i, prov, port.port);
      if (route !== undefined) routes.push(route);
    });
  }
  const first = vss[0];
  const prov = first !== undefined && routes.length > 0 ? { kind: 'VirtualService', namespace: first.meta.namespace, name: first.meta.name } : { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name };
  // With no VirtualService routes for this proxy and port, traffic goes to the service (Istio's default route).
  if (routes.length === 0) routes.push(defaultRoute(svc, ensureCluster(ctx, svc, port, undefined) as string));
  return { name: `${svc.hostname}:${port.port}`, domains: domains(ctx, svc, port.port), routes, provenance: prov };
}

function l4Applies(ctx: Ctx, matches: IstioL4Match[] | undefined, port: number): boolean {
  if (matches === undefined || matches.length === 0) return true;
  return matches.some(
    (m) => (m.port === undefined || m.port === port) && (m.sourceLabels === undefined || labelsMatch(m.sourceLabels, ctx.proxy.labels)) && (m.sourceNamespace === undefined || m.sourceNamespace === ctx.proxy.namespace) && matchBoundToMesh(m.gateways),
  );
}

function tcpRoutes(ctx: Ctx, svc: WorldService, port: ServicePort): TcpRoute[] {
  const out: TcpRoute[] = [];
  for (const vs of virtualServicesFor(ctx, svc)) {
    const provenance = { kind: 'VirtualService', namespace: vs.meta.namespace, name: vs.meta.name };
    const add = (route: { route?: Parameters<typeof weightedClusters>[1] }, sniHosts?: string[]): void => {
      const { destinations } = weightedClusters(ctx, route.route ?? [], vs.meta.namespace, port.port);
      if (destinations.length === 0) return;
      const r: TcpRoute = { destinations, provenance };
      if (sniHosts !== undefined) r.sniHosts = sniHosts;
      out.push(r);
    };
    if (port.protocol === 'tls') {
      for (const t of vs.spec.tls ?? []) if (l4Applies(ctx, t.match, port.port)) add(t, [...new Set(t.match.flatMap((m) => m.sniHosts ?? []))]);
    }
    for (const t of vs.spec.tcp ?? []) if (l4Applies(ctx, t.match, port.port)) add(t);
  }
  if (out.length === 0) {
    const dest: WeightedCluster = { cluster: ensureCluster(ctx, svc, port, undefined) as string, weight: 100 };
    out.push({ destinations: [dest], provenance: { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name } });
  }
  return out;
}

/** What one service contributes to the outbound part: its virtual hosts, TCP listeners, clusters. */
export interface Fragment {
  vhosts: { port: ServicePort; vh: VirtualHost; json: string }[];
  tcp: Listener[];
  clusters: { name: string; cluster: Cluster; json: string }[];
  endpointSets: { name: string; set: EndpointSet; json: string }[];
}

/** Builds one service's fragment in a context of its own, capturing the clusters it creates. */
export function buildFragment(ctx: Ctx, svc: WorldService): Fragment {
  const sub: Ctx = { ...ctx, clusters: new Map(), endpointSets: new Map() };
  ensureServiceClusters(sub, svc);
  const frag: Fragment = { vhosts: [], tcp: [], clusters: [], endpointSets: [] };
  const prov = { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name };
  for (const port of svc.ports) {
    if (HTTPISH.has(port.protocol)) {
      const vh = virtualHost(sub, svc, port);
      frag.vhosts.push({ port, vh, json: JSON.stringify(vh) });
    } else {
      const address = svc.clusterIP ?? '0.0.0.0';
      frag.tcp.push({ name: `outbound|${port.port}|${svc.hostname}`, direction: 'outbound', address, port: port.port, protocol: port.protocol, tcpRoutes: tcpRoutes(sub, svc, port), provenance: prov });
    }
  }
  for (const [name, cluster] of sub.clusters) frag.clusters.push({ name, cluster, json: JSON.stringify(cluster) });
  for (const [name, set] of sub.endpointSets) frag.endpointSets.push({ name, set, json: JSON.stringify(set) });
  return frag;
}

export interface OutboundBuild {
  listeners: Listener[];
  routes: RouteTable[];
  clusters: Cluster[];
  endpoints: EndpointSet[];
  /** The same as JSON, built from the fragments' JSON (no second serialization). */
  json: { listeners: string; routes: string };
  /** `"clusters":[…],"endpoints":[…]}` from the fragments' JSON, built on demand. */
  clustersTail: () => string;
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Joins fragments (one per visible service, in service order) into the outbound part. */
export function buildOutbound(ctx: Ctx, fragmentOf: (svc: WorldService) => Fragment = (svc) => buildFragment(ctx, svc)): OutboundBuild {
  const tcp: Listener[] = [];
  const tables = new Map<number, { listener: Listener; vhosts: VirtualHost[]; json: string[] }>();
  const clusters = new Map<string, { cluster: Cluster; json: string }>();
  const sets = new Map<string, { set: EndpointSet; json: string }>();
  for (const svc of ctx.services) {
    const f = fragmentOf(svc);
    for (const c of f.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const e of f.endpointSets) if (!sets.has(e.name)) sets.set(e.name, e);
    for (const v of f.vhosts) {
      const prov = { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name };
      let entry = tables.get(v.port.port);
      if (entry === undefined) {
        entry = { listener: { name: `outbound|${v.port.port}`, direction: 'outbound', address: '0.0.0.0', port: v.port.port, protocol: v.port.protocol, routeTable: String(v.port.port), provenance: prov }, vhosts: [], json: [] };
        tables.set(v.port.port, entry);
      } else if (entry.listener.protocol !== v.port.protocol) entry.listener.protocol = 'auto';
      entry.vhosts.push(v.vh);
      entry.json.push(v.json);
    }
    tcp.push(...f.tcp);
  }
  const sorted = [...tables.values()].sort((a, b) => a.listener.port - b.listener.port);
  const routes: RouteTable[] = sorted.map((e) => ({ name: String(e.listener.port), virtualHosts: e.vhosts, provenance: { kind: 'default', namespace: '', name: String(e.listener.port) } }));
  // Same key order as the RouteTable objects above, so this equals JSON.stringify(routes).
  const routesJson = `[${sorted.map((e) => `{"name":${JSON.stringify(String(e.listener.port))},"virtualHosts":[${e.json.join(',')}],"provenance":${JSON.stringify({ kind: 'default', namespace: '', name: String(e.listener.port) })}}`).join(',')}]`;
  const listeners = [...sorted.map((e) => e.listener), ...tcp];
  const cl = [...clusters.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const es = [...sets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    listeners,
    routes,
    clusters: cl.map(([, c]) => c.cluster),
    endpoints: es.map(([, e]) => e.set),
    json: { listeners: JSON.stringify(listeners), routes: routesJson },
    clustersTail: () => `"clusters":[${cl.map(([, c]) => c.json).join(',')}],"endpoints":[${es.map(([, e]) => e.json).join(',')}]}`,
  };
}

export { byName };
