/** Pods and WorkloadEntries normalized into workload instances. */
import type { K8sObject } from './objects.ts';
import type { ServicePort, WorldWorkload } from './types.ts';

type Obj = Record<string, unknown>;

/** Kubernetes label selector semantics for matchLabels: every key equal. */
export function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** Deployment pods are owned by `<deployment>-<hash>` ReplicaSets: strip the hash like Istio. */
function ownerWorkload(o: K8sObject): string {
  const owner = o.metadata.ownerReferences?.find((r) => r.controller === true) ?? o.metadata.ownerReferences?.[0];
  if (owner === undefined) return o.metadata.name;
  if (owner.kind === 'ReplicaSet') {
    const i = owner.name.lastIndexOf('-');
    return i > 0 ? owner.name.slice(0, i) : owner.name;
  }
  return owner.name;
}

export function workloadFromPod(o: K8sObject): WorldWorkload {
  const spec = (o.spec ?? {}) as Obj;
  const status = (o.status ?? {}) as Obj;
  const containers = [...((spec.containers ?? []) as Obj[]), ...((spec.initContainers ?? []) as Obj[])];
  const namedPorts: Record<string, number> = {};
  for (const c of containers) {
    for (const p of (c.ports ?? []) as Obj[]) if (typeof p.name === 'string' && typeof p.containerPort === 'number') namedPorts[p.name] = p.containerPort;
  }
  const annotations = o.metadata.annotations ?? {};
  return {
    kind: 'Pod',
    name: o.metadata.name,
    namespace: o.metadata.namespace ?? '',
    workloadName: ownerWorkload(o),
    labels: o.metadata.labels ?? {},
    serviceAccount: typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : 'default',
    ip: typeof status.podIP === 'string' ? status.podIP : '',
    namedPorts,
    hasSidecar: containers.some((c) => c.name === 'meshlet-proxy') || annotations['sidecar.meshlet.io/status'] !== undefined,
    ...telemetryAnnotations(annotations),
  };
}

/** Only the annotations telemetry reads, so other annotation churn does not reach the World. */
function telemetryAnnotations(annotations: Record<string, string>): { telemetryAnnotations?: Record<string, string> } {
  const kept = Object.entries(annotations).filter(([k]) => k === 'proxy.istio.io/config' || k.startsWith('telemetry.meshlet.io/'));
  return kept.length === 0 ? {} : { telemetryAnnotations: Object.fromEntries(kept.sort(([a], [b]) => (a < b ? -1 : 1))) };
}

/**
 * A WorkloadEntry (local mode's endpoints). It is meshed (has a sidecar and an identity)
 * when it names a serviceAccount, unless annotated `sidecar.meshlet.io/proxy: "false"`.
 */
export function workloadFromWorkloadEntry(o: K8sObject): WorldWorkload {
  const spec = (o.spec ?? {}) as Obj;
  const labels = { ...(o.metadata.labels ?? {}), ...((spec.labels ?? {}) as Record<string, string>) };
  const ports: Record<string, number> = {};
  for (const [k, v] of Object.entries((spec.ports ?? {}) as Obj)) if (typeof v === 'number') ports[k] = v;
  const sa = typeof spec.serviceAccount === 'string' && spec.serviceAccount !== '' ? spec.serviceAccount : undefined;
  return {
    kind: 'WorkloadEntry',
    name: o.metadata.name,
    namespace: o.metadata.namespace ?? '',
    workloadName: labels.app ?? o.metadata.name,
    labels,
    serviceAccount: sa ?? 'default',
    ip: typeof spec.address === 'string' ? spec.address : '',
    namedPorts: ports,
    hasSidecar: sa !== undefined && o.metadata.annotations?.['sidecar.meshlet.io/proxy'] !== 'false',
  };
}

/**
 * Target port of a service port on one workload. WorkloadEntry `ports` are keyed by the
 * service port name (Istio); Pods resolve named target ports from their container ports.
 */
export function targetPortOn(port: ServicePort, w: WorldWorkload): number {
  const byServicePortName = w.kind === 'WorkloadEntry' ? w.namedPorts[port.name] : undefined;
  if (typeof port.targetPort === 'number') return byServicePortName ?? port.targetPort;
  return w.namedPorts[port.targetPort] ?? byServicePortName ?? port.port;
}
