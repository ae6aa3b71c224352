/** Inbound listeners: one per app port of the services that select this proxy's workload. */
import type { Listener } from '../../common/snapshot.ts';
import type { WorldWorkload } from '../world/types.ts';
import { labelsMatch, targetPortOn } from '../world/workloads.ts';
import type { Ctx } from './context.ts';

export function buildInbound(ctx: Ctx, self: WorldWorkload | undefined): Listener[] {
  const byPort = new Map<number, Listener>();
  for (const svc of ctx.world.services) {
    if (svc.meta.namespace !== ctx.proxy.namespace || svc.selector === undefined || !labelsMatch(svc.selector, ctx.proxy.labels)) continue;
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
