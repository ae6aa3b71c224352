/**
 * Outbound listeners and route tables. HTTP-ish ports share one `outbound|<port>` listener
 * on 0.0.0.0 whose route table has a virtual host per visible service on that port; TCP
 * and TLS ports get a listener per service (on its cluster IP when it has one).
 */
import type { Listener, Protocol, Route, RouteTable, TcpRoute, VirtualHost, WeightedCluster } from '../../common/snapshot.ts';
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

export function buildOutbound(ctx: Ctx): { listeners: Listener[]; routes: RouteTable[] } {
  const listeners: Listener[] = [];
  const tables = new Map<number, { table: RouteTable; listener: Listener }>();
  for (const svc of ctx.services) {
    ensureServiceClusters(ctx, svc);
    for (const port of svc.ports) {
      const prov = { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name };
      if (HTTPISH.has(port.protocol)) {
        let entry = tables.get(port.port);
        if (entry === undefined) {
          const table: RouteTable = { name: String(port.port), virtualHosts: [], provenance: { kind: 'default', namespace: '', name: String(port.port) } };
          const listener: Listener = { name: `outbound|${port.port}`, direction: 'outbound', address: '0.0.0.0', port: port.port, protocol: port.protocol, routeTable: table.name, provenance: prov };
          entry = { table, listener };
          tables.set(port.port, entry);
        } else if (entry.listener.protocol !== port.protocol) entry.listener.protocol = 'auto';
        entry.table.virtualHosts.push(virtualHost(ctx, svc, port));
      } else {
        const address = svc.clusterIP ?? '0.0.0.0';
        listeners.push({ name: `outbound|${port.port}|${svc.hostname}`, direction: 'outbound', address, port: port.port, protocol: port.protocol, tcpRoutes: tcpRoutes(ctx, svc, port), provenance: prov });
      }
    }
  }
  const sorted = [...tables.values()].sort((a, b) => a.listener.port - b.listener.port);
  return { listeners: [...sorted.map((e) => e.listener), ...listeners], routes: sorted.map((e) => e.table) };
}
