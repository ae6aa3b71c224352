/**
 * How the operator plugs the service graph in: one line in its monitoring app factory,
 *   void app.register(serviceGraphPlugin, operatorGraphOptions(core, process.env.MESHLET_PROMETHEUS_URL));
 * Typed structurally on the part of the core it reads (connected proxies and their IPs).
 */
import { proxyStatsUrl, type ServiceGraphOptions } from './plugin.ts';

export interface ConnectedProxies {
  proxies: { states: Map<string, { identity: { ip: string } }> };
}

export function operatorGraphOptions(core: ConnectedProxies, prometheusUrl?: string, statsPort = 15090): ServiceGraphOptions {
  if (prometheusUrl !== undefined && prometheusUrl !== '') return { prometheusUrl };
  return { targets: () => [...core.proxies.states.values()].map((s) => proxyStatsUrl(s.identity.ip, statsPort)) };
}
