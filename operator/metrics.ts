/**
 * The operator's metrics, on its own prom-client Registry (so several operators can live
 * in one process: tests, `meshlet local`). Istio's control-plane names where the meaning
 * matches; meshlet_operator_* otherwise.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  pushes: Counter<'type'>;
  convergence: Histogram;
  pushTime: Histogram;
  allAcked: Histogram;
  connected: Gauge;
  rejects: Counter<'type'>;
  invalidObjects: Gauge<'kind'>;
  informerRestarts: Counter<'resource'>;
  statusWrites: Counter<'kind'>;
  configEvents: Counter<'type' | 'event'>;
  services: Gauge;
  virtualServices: Gauge;
}

export function createOperatorMetrics(opts: { defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  const r = [registry];
  return {
    registry,
    pushes: new Counter({ name: 'pilot_xds_pushes', help: 'Snapshots pushed to proxies (a proxy gets one only when its snapshot hash changed).', labelNames: ['type'], registers: r }),
    convergence: new Histogram({
      name: 'pilot_proxy_convergence_time',
      help: 'Seconds from the first change of a debounce window to the ACK of the snapshot it produced, per proxy.',
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30],
      registers: r,
    }),
    allAcked: new Histogram({
      name: 'meshlet_operator_push_all_acked_seconds',
      help: 'Seconds from the first change of a debounce window until every proxy whose snapshot it changed has ACKed (apply → last ACK).',
      buckets: [0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30],
      registers: r,
    }),
    pushTime: new Histogram({ name: 'pilot_xds_push_time', help: 'Seconds spent translating snapshots for all proxies after a World change.', buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: r }),
    connected: new Gauge({ name: 'pilot_xds', help: 'Proxies connected to this operator (a request open or seen recently).', registers: r }),
    rejects: new Counter({ name: 'pilot_total_xds_rejects', help: 'Snapshots rejected (NACKed) by proxies.', labelNames: ['type'], registers: r }),
    invalidObjects: new Gauge({ name: 'meshlet_operator_invalid_objects', help: 'Mesh objects whose latest version failed validation (not applied).', labelNames: ['kind'], registers: r }),
    informerRestarts: new Counter({ name: 'meshlet_operator_informer_restarts_total', help: 'Kubernetes informers restarted after an error.', labelNames: ['resource'], registers: r }),
    statusWrites: new Counter({ name: 'meshlet_operator_status_writes_total', help: 'Status subresource writes of mesh objects.', labelNames: ['kind'], registers: r }),
    configEvents: new Counter({ name: 'pilot_k8s_cfg_events', help: 'Object events received from the sources.', labelNames: ['type', 'event'], registers: r }),
    services: new Gauge({ name: 'pilot_services', help: 'Services in the current World.', registers: r }),
    virtualServices: new Gauge({ name: 'pilot_virt_services', help: 'VirtualServices in the current World.', registers: r }),
  };
}
