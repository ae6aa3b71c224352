/** Inbound listeners: one per app port of the services that select this proxy's workload. */
import type { Listener } from '../../common/snapshot.ts';
import type { ProxyIdentity } from '../../common/snapshot.ts';
import type { World, WorldWorkload } from '../world/types.ts';
import { labelsMatch, targetPortOn } from '../world/workloads.ts';
import { indexesOf } from './indexes.ts';

export function buildInbound(world: World, proxy: ProxyIdentity, self: WorldWorkload | undefined): Listener[] {
  const byPort = new Map<number, Listener>();
  for (const svc of indexesOf(world).selecting.get(proxy.namespace) ?? []) {
    if (svc.selector === undefined || !labelsMatch(svc.selector, proxy.labels)) continue;
    for (const p of svc.ports) {
      const target = self !== undefined ? targetPortOn(p, self) : typeof p.targetPort === 'number' ? p.targetPort : p.port;
      if (byPort.has(target)) continue;
      byPort.set(target, {
        name: `inbound|${target}`,
        direction: 'inbound',
        address: '0.0.0.0',
        port: target,
        protocol: p.protocol,
        appPort: target,
        provenance: { kind: 'Service', namespace: svc.meta.namespace, name: svc.meta.name },
      });
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}
