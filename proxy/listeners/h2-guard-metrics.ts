/** Counters of the HTTP/2 rapid-reset defence, on the stats port (15090) with the Istio metrics. */
import { Counter, type Registry } from '../telemetry/prom-lite.ts';
import type { Logger } from '../../common/log.ts';
import type { H2GuardHooks } from './h2-guard.ts';

/** Registers the counters once per registry; returns the hooks the h2c server calls. */
export function registerH2GuardMetrics(registry: Registry): (log: Logger) => H2GuardHooks {
  const resets = new Counter({
    name: 'meshlet_proxy_h2_client_resets_total',
    help: 'HTTP/2 streams reset by the client before their response was finished',
    registers: [registry],
  });
  const goaways = new Counter({
    name: 'meshlet_proxy_h2_goaway_total',
    help: 'HTTP/2 connections the proxy sent GOAWAY and closed, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const onClientReset = (): void => resets.inc();
  return (log) => ({
    onClientReset,
    onGoaway: (session, budget) => {
      goaways.inc({ reason: 'reset_flood' });
      log.warn({ code: 'MESHLET_PROXY_H2_RESET_FLOOD', remote: session.socket?.remoteAddress, streams: budget.streams, resets: budget.resets }, 'HTTP/2 client reset too many streams: GOAWAY ENHANCE_YOUR_CALM');
    },
  });
}
