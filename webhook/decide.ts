/**
 * Whether a pod gets the sidecar, and why. Pure: the same pod and namespace always give the
 * same answer, and every answer carries a reason code that ends up on the pod and in the metric.
 */
import { ANN, INIT_CONTAINER, ISTIO_NS_LABEL, NEVER_INJECT_NAMESPACES, NS_LABEL, PROXY_CONTAINER } from './constants.ts';
import type { NamespaceInfo, Pod } from './pod-types.ts';

export type Reason =
  | 'system-namespace'
  | 'host-network'
  | 'already-injected'
  | 'pod-opt-out'
  | 'namespace-disabled'
  | 'pod-opt-in'
  | 'namespace-label'
  | 'namespace-annotation'
  | 'istio-injection-label'
  | 'namespace-not-enabled';

export interface Decision {
  inject: boolean;
  reason: Reason;
}

/** `"true"`/`"false"` from the pod's annotations, then labels, meshlet's key before Istio's. */
function podSwitch(pod: Pod): boolean | undefined {
  const meta = pod.metadata ?? {};
  for (const source of [meta.annotations, meta.labels]) {
    for (const key of [ANN.inject, ANN.istioInject]) {
      const v = source?.[key]?.trim().toLowerCase();
      if (v === 'false') return false;
      if (v === 'true') return true;
    }
  }
  return undefined;
}

/** True when the pod already went through the injector (re-running on its output changes nothing). */
export function isInjected(pod: Pod): boolean {
  const status = pod.metadata?.annotations?.[ANN.status];
  if (status !== undefined && status.includes('"injected"')) return true;
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
  return names.includes(PROXY_CONTAINER) || names.includes(INIT_CONTAINER);
}

export function decide(pod: Pod, ns: NamespaceInfo): Decision {
  if (NEVER_INJECT_NAMESPACES.includes(ns.name)) return { inject: false, reason: 'system-namespace' };
  if (pod.spec?.hostNetwork === true) return { inject: false, reason: 'host-network' };
  if (isInjected(pod)) return { inject: false, reason: 'already-injected' };
  // An explicit pod opt-out wins over everything below; an explicitly disabled namespace wins over opt-in.
  const sw = podSwitch(pod);
  if (sw === false) return { inject: false, reason: 'pod-opt-out' };
  const nsLabel = ns.labels[NS_LABEL.key];
  const istioLabel = ns.labels[ISTIO_NS_LABEL.key];
  if (nsLabel === 'false' || istioLabel === 'disabled') return { inject: false, reason: 'namespace-disabled' };
  if (sw === true) return { inject: true, reason: 'pod-opt-in' };
  if (nsLabel === NS_LABEL.value) return { inject: true, reason: 'namespace-label' };
  if (ns.annotations[NS_LABEL.key] === 'true') return { inject: true, reason: 'namespace-annotation' };
  if (istioLabel === ISTIO_NS_LABEL.value) return { inject: true, reason: 'istio-injection-label' };
  return { inject: false, reason: 'namespace-not-enabled' };
}
