/**
 * How the operator plugs the service graph in: one line in its monitoring app factory,
 *   void app.register(serviceGraphPlugin, operatorGraphOptions(core, process.env.MESHLET_PROMETHEUS_URL));
 * Typed structurally on the part of the core it reads (connected proxies and their IPs; the
 * World for the side panel when given).
 */
import { Inspector, type InspectCore, type UiExtras } from './inspect.ts';
import { proxyStatsUrl, type ServiceGraphOptions } from './plugin.ts';

export interface ConnectedProxies {
  proxies: { states: Map<string, { identity: { ip: string } }> };
}

export function operatorGraphOptions(core: ConnectedProxies | InspectCore, prometheusUrl?: string, statsPort = 15090, extras?: UiExtras): ServiceGraphOptions {
  const inspector = 'world' in core ? { inspector: new Inspector(core, extras) } : {};
  if (prometheusUrl !== undefined && prometheusUrl !== '') return { prometheusUrl, ...inspector };
  return { targets: () => [...core.proxies.states.values()].map((s) => proxyStatsUrl(s.identity.ip, statsPort)), ...inspector };
}
