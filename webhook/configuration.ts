/**
 * The MutatingWebhookConfiguration `meshlet-sidecar-injector` (the chart renders the same
 * shape). Three entries, because a namespaceSelector cannot OR labels:
 *  - mesh namespaces by `sidecar.inject=true`, failurePolicy Fail: a pod there is never admitted
 *    without the injector's decision;
 *  - mesh namespaces by Istio's `istio-injection=enabled`, Fail as well;
 *  - every other namespace (not kube-system/meshlet-system), failurePolicy Ignore: an injector
 *    outage never blocks pods outside the mesh; pod opt-in and namespace *annotations* are
 *    honoured here, so those fail open (prefer the label).
 */
import type { V1LabelSelectorRequirement, V1MutatingWebhookConfiguration, V1MutatingWebhook } from '@kubernetes/client-node';
import { INSTALL_NAMESPACE, ISTIO_NS_LABEL, NEVER_INJECT_NAMESPACES, NS_LABEL, PORTS, WEBHOOK_CONFIGURATION } from './constants.ts';

export type ClientTarget = { url: string } | { service: { name: string; namespace: string; port: number } };

export interface ConfigurationOptions {
  target?: ClientTarget;
  caBundlePem?: string;
  name?: string;
  timeoutSeconds?: number;
}

export const WEBHOOK_NAMES = {
  mesh: 'inject.sidecar.meshlet.io',
  istioMesh: 'istio-inject.sidecar.meshlet.io',
  other: 'optional-inject.sidecar.meshlet.io',
} as const;

const notSystem: V1LabelSelectorRequirement = { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...NEVER_INJECT_NAMESPACES] };

export function webhookConfiguration(o: ConfigurationOptions = {}): V1MutatingWebhookConfiguration {
  const target = o.target ?? { service: { name: 'meshlet', namespace: INSTALL_NAMESPACE, port: PORTS.webhook } };
  const clientConfig = 'url' in target ? { url: `${target.url.replace(/\/$/, '')}/inject` } : { service: { ...target.service, path: '/inject' } };
  const base = (name: string, failurePolicy: 'Fail' | 'Ignore', match: V1LabelSelectorRequirement[]): V1MutatingWebhook => ({
    name,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy,
    matchPolicy: 'Equivalent',
    reinvocationPolicy: 'Never',
    timeoutSeconds: o.timeoutSeconds ?? 10,
    clientConfig: { ...clientConfig, ...(o.caBundlePem !== undefined ? { caBundle: Buffer.from(o.caBundlePem).toString('base64') } : {}) },
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
    namespaceSelector: { matchExpressions: [...match, notSystem] },
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: o.name ?? WEBHOOK_CONFIGURATION, labels: { 'app.kubernetes.io/part-of': 'meshlet' } },
    webhooks: [
      base(WEBHOOK_NAMES.mesh, 'Fail', [{ key: NS_LABEL.key, operator: 'In', values: [NS_LABEL.value] }]),
      base(WEBHOOK_NAMES.istioMesh, 'Fail', [
        { key: ISTIO_NS_LABEL.key, operator: 'In', values: [ISTIO_NS_LABEL.value] },
        { key: NS_LABEL.key, operator: 'NotIn', values: [NS_LABEL.value] },
      ]),
      base(WEBHOOK_NAMES.other, 'Ignore', [
        { key: NS_LABEL.key, operator: 'NotIn', values: [NS_LABEL.value] },
        { key: ISTIO_NS_LABEL.key, operator: 'NotIn', values: [ISTIO_NS_LABEL.value] },
      ]),
    ],
  };
}
