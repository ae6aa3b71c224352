/** EndpointSlices → endpoints per service (`ns/name`), joined with their Pods. */
import type { K8sObject } from './objects.ts';
import type { WorldEndpoint, WorldWorkload } from './types.ts';

type Obj = Record<string, unknown>;

export function endpointsFromSlices(slices: K8sObject[], pods: Map<string, WorldWorkload>): Map<string, WorldEndpoint[]> {
  const out = new Map<string, WorldEndpoint[]>();
  const sorted = [...slices].sort((a, b) => (`${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1));
  for (const s of sorted) {
    const ns = s.metadata.namespace ?? '';
    const svc = s.metadata.labels?.['kubernetes.io/service-name'];
    if (svc === undefined || (s.addressType !== undefined && s.addressType !== 'IPv4' && s.addressType !== 'IPv6')) continue;
    const ports: Record<string, number> = {};
    for (const p of (s.ports ?? []) as Obj[]) if (typeof p.port === 'number') ports[typeof p.name === 'string' ? p.name : ''] = p.port;
    const list = out.get(`${ns}/${svc}`) ?? [];
    for (const e of (s.endpoints ?? []) as Obj[]) {
      const cond = (e.conditions ?? {}) as Obj;
      // Kubernetes: a nil `ready` condition means ready.
      const ready = cond.ready !== false;
      const ref = e.targetRef as Obj | undefined;
      const pod = ref?.kind === 'Pod' ? pods.get(`${typeof ref.namespace === 'string' ? ref.namespace : ns}/${String(ref.name)}`) : undefined;
      for (const address of (e.addresses ?? []) as string[]) {
        const ep: WorldEndpoint = { address, ports: { ...ports }, ready, source: { kind: 'EndpointSlice', namespace: ns, name: s.metadata.name } };
        if (typeof e.zone === 'string') ep.zone = e.zone;
        if (pod !== undefined) ep.workload = pod;
        list.push(ep);
      }
    }
    out.set(`${ns}/${svc}`, list);
  }
  return out;
}
