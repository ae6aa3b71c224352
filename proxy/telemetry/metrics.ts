/**
 * The proxy's metrics, bound to a snapshot: one HttpBinding per inbound listener and per
 * outbound cluster, one ClusterStats per cluster, TCP bindings likewise, all built when a
 * snapshot is applied (never per request). The registry lives for the whole process, so
 * counters survive config changes.
 *
 * `security_policy`: the seed's PromQL uses `istio_tcp_connections_opened_total{security_policy="mutual_tls"}`,
 * but Istio's label is `connection_security_policy` (the label Istio's Grafana dashboards
 * and Kiali query). TCP metrics carry both, with the same value, so either query works and
 * no series is added (one extra label with an identical value).
 */
import type { Cluster, Endpoint, ProxySnapshot } from '../../common/snapshot.ts';
import { ClusterStats, HttpBinding, TcpBinding } from './metrics-bind.ts';
import { UNKNOWN, localSide, serviceLabels, type ServiceLabels, type SideLabels } from './metrics-labels.ts';
import { createMeshMetrics, type MeshMetrics, type MeshMetricsOptions } from './metrics-registry.ts';
import { PeerCache, encodePeer, metadataFor } from './peer-metadata.ts';

export { PEER_HEADER } from './peer-metadata.ts';
export type { HttpOutcome, TcpConnStats } from './metrics-bind.ts';
export { HttpBinding, ClusterStats, TcpBinding } from './metrics-bind.ts';

/** Bindings of one cluster (inbound app clusters are named `inbound|<port>||`). */
export interface ClusterBindings {
  http: HttpBinding;
  tcp: TcpBinding;
  stats: ClusterStats;
  /** The destination service labels. */
  service: ServiceLabels;
  /** Whether peer metadata may be sent to this cluster (in-mesh destinations only). */
  meshed: boolean;
}

/** Everything the request path needs for one snapshot. */
export interface BoundMetrics {
  /** Metrics are on for this snapshot (`telemetry.metrics`). */
  enabled: boolean;
  /** Our metadata, sent as `x-meshlet-peer` on requests (outbound) and responses (inbound). */
  peerHeader: string;
  /** Bindings for a cluster, built on first use and cached for the snapshot's lifetime. */
  forCluster(cluster: Cluster, endpoints: readonly Endpoint[]): ClusterBindings;
}

/** Istio names inbound traffic by the service the listener serves (the app cluster is `inbound|port||`). */
export function clusterService(c: Cluster): ServiceLabels {
  if (c.name.startsWith('inbound|')) {
    const p = c.provenance;
    if (p.kind === 'Service') return serviceLabels(`${p.name}.${p.namespace}.svc.cluster.local`);
    return c.service.startsWith('inbound|') ? { host: UNKNOWN, name: UNKNOWN, namespace: UNKNOWN } : serviceLabels(c.service);
  }
  return serviceLabels(c.service);
}

/** Destination labels when the peer sends no metadata: the endpoints' workload, if they all share one. */
export function endpointWorkload(endpoints: readonly Endpoint[]): SideLabels | undefined {
  const names = new Set(endpoints.map((e) => (e.workload === undefined ? '' : `${e.workload.namespace}/${e.workload.name}`)));
  const first = endpoints[0]?.workload;
  if (names.size !== 1 || first === undefined) return undefined;
  return {
    workload: first.name, namespace: first.namespace, principal: UNKNOWN, app: first.app ?? UNKNOWN, version: first.version ?? UNKNOWN,
    canonicalService: first.app ?? first.name, canonicalRevision: first.version ?? 'latest',
  };
}

const MESH_HOST = /\.svc\.cluster\.local$/;

export class ProxyMetrics {
  readonly mesh: MeshMetrics;
  readonly peers = new PeerCache();
  constructor(opts: MeshMetricsOptions = {}) {
    this.mesh = createMeshMetrics(opts);
  }

  /** Binds a snapshot; call when the snapshot is swapped in (before its routes are composed). */
  bind(snap: ProxySnapshot): BoundMetrics {
    const md = metadataFor(snap.proxy);
    const local = localSide(md, snap.proxy.spiffeId);
    const cache = new WeakMap<Cluster, ClusterBindings>();
    const forCluster = (c: Cluster, endpoints: readonly Endpoint[]): ClusterBindings => {
      let b = cache.get(c);
      if (b !== undefined) return b;
      const inbound = c.name.startsWith('inbound|');
      const service = clusterService(c);
      const fb = inbound ? undefined : endpointWorkload(endpoints);
      const base = { reporter: inbound ? ('destination' as const) : ('source' as const), local, service, ...(fb === undefined ? {} : { fallbackPeer: fb }) };
      b = {
        http: new HttpBinding(this.mesh, { ...base, protocol: c.protocol === 'grpc' ? 'grpc' : 'http' }, this.peers),
        tcp: new TcpBinding(this.mesh, base, this.peers),
        stats: new ClusterStats(this.mesh, c.name),
        service,
        meshed: inbound || MESH_HOST.test(c.service) || endpoints.some((e) => e.identity !== undefined || e.workload !== undefined),
      };
      cache.set(c, b);
      return b;
    };
    return { enabled: snap.telemetry.metrics, peerHeader: encodePeer(md), forCluster };
  }

  /** Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.mesh.registry.metrics();
  }

  get contentType(): string {
    return this.mesh.registry.contentType;
  }
}
