/** Small builders for ProxySnapshots in tests (every field the validator requires, sane defaults). */
import type { Cluster, EndpointSet, Listener, LoadBalancer, ProxySnapshot, Route, RouteTable, RouteMatch, RouteAction, WeightedCluster } from '../../../common/snapshot.ts';

const prov = (kind: string, name: string) => ({ kind, namespace: 'default', name });

export const DEFAULT_RETRIES = { attempts: 2, perTryTimeoutMs: 0, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', '503'], retryRemoteLocalities: false, backoffBaseMs: 25 };

export function cluster(name: string, endpoints: { address: string; port: number; weight?: number; labels?: Record<string, string>; healthy?: boolean; locality?: { region: string; zone: string; subzone: string } }[], opts: { protocol?: Cluster['protocol']; lb?: LoadBalancer; tls?: Cluster['tls'] } = {}): { cluster: Cluster; set: EndpointSet } {
  return {
    cluster: {
      name,
      service: name.split('|')[3] ?? name,
      port: Number(name.split('|')[1] ?? 80) || 80,
      protocol: opts.protocol ?? 'http',
      loadBalancer: opts.lb ?? { policy: 'ROUND_ROBIN' },
      connectionPool: { maxConnections: 4294967295, connectTimeoutMs: 2000, http1MaxPendingRequests: 4294967295, http2MaxRequests: 4294967295, maxRequestsPerConnection: 0, maxRetries: 4294967295, idleTimeoutMs: 3600000, maxConcurrentStreams: 2147483647 },
      tls: opts.tls ?? { mode: 'DISABLE' },
      endpointSet: name,
      provenance: prov('DestinationRule', name),
    },
    set: { name, provenance: prov('Service', name), endpoints: endpoints.map((e) => ({ address: e.address, port: e.port, labels: e.labels ?? {}, weight: e.weight ?? 1, healthy: e.healthy ?? true, ...(e.locality === undefined ? {} : { locality: e.locality }) })) },
  };
}

export function route(name: string, match: RouteMatch[], action: RouteAction, extra: Partial<Route> = {}): Route {
  return { name, match, action, timeoutMs: 0, retries: DEFAULT_RETRIES, provenance: prov('VirtualService', name), ...extra };
}

export const forward = (...dests: (string | WeightedCluster)[]): RouteAction => ({ kind: 'forward', destinations: dests.map((d) => (typeof d === 'string' ? { cluster: d, weight: 100 } : d)) });

export function table(name: string, vhosts: { name?: string; domains: string[]; routes: Route[] }[]): RouteTable {
  return { name, provenance: prov('default', name), virtualHosts: vhosts.map((v, i) => ({ name: v.name ?? `${name}-vh${i}`, domains: v.domains, routes: v.routes, provenance: prov('VirtualService', v.name ?? name) })) };
}

export function listener(port: number, opts: Partial<Listener> = {}): Listener {
  return { name: `${opts.direction ?? 'outbound'}|${opts.address ?? '0.0.0.0'}|${port}`, direction: 'outbound', address: '0.0.0.0', port, protocol: 'http', provenance: prov('Service', `svc-${port}`), ...opts };
}

export function snapshot(version: string, parts: { listeners: Listener[]; tables?: RouteTable[]; clusters?: { cluster: Cluster; set: EndpointSet }[] }): ProxySnapshot {
  return {
    version,
    proxy: { id: 'test-1.default', namespace: 'default', workload: 'test', serviceAccount: 'test', labels: { app: 'test' }, ip: '127.0.0.1', spiffeId: 'spiffe://cluster.local/ns/default/sa/test' },
    listeners: parts.listeners,
    routes: parts.tables ?? [],
    clusters: (parts.clusters ?? []).map((c) => c.cluster),
    endpoints: (parts.clusters ?? []).map((c) => c.set),
    security: { peerAuthentication: { mode: 'PERMISSIVE', ports: {}, provenance: prov('default', 'mesh') }, authorization: [] },
    telemetry: { metrics: false, accessLog: false, tracing: { samplingPercent: 0 } },
  };
}
