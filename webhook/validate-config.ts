/**
 * The ValidatingWebhookConfiguration for the Istio kinds (the chart renders the same shape):
 * every CREATE/UPDATE of a VirtualService, DestinationRule, PeerAuthentication or
 * AuthorizationPolicy, in any served version, goes to POST /validate. failurePolicy Fail by
 * default: with the webhook away, objects are refused rather than stored unchecked (the CRDs'
 * own schema and CEL rules still run either way).
 */
import type { V1RuleWithOperations, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { KIND_GROUPS, KIND_PLURALS } from '../crds/generated/types.ts';
import { INSTALL_NAMESPACE, PORTS } from './constants.ts';

export const VALIDATING_CONFIGURATION = 'meshlet-validator';
export const VALIDATING_WEBHOOK_NAME = 'validation.crd.meshlet.io';
export const VALIDATE_PATH = '/validate';

export type ValidateTarget = { url: string } | { service: { name: string; namespace: string; port: number } };

export interface ValidateConfigOptions {
  target?: ValidateTarget;
  caBundlePem?: string;
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
}

/** The admission rules: the four kinds, every served version, CREATE and UPDATE. */
export function validatingRules(): V1RuleWithOperations[] {
  const groups = [...new Set(Object.values(KIND_GROUPS))].sort();
  return groups.map((g) => ({
    apiGroups: [g],
    apiVersions: ['*'],
    operations: ['CREATE', 'UPDATE'],
    resources: Object.entries(KIND_PLURALS).filter(([k]) => KIND_GROUPS[k as keyof typeof KIND_GROUPS] === g).map(([, p]) => p).sort(),
    scope: 'Namespaced',
  }));
}

export function validatingWebhookConfiguration(o: ValidateConfigOptions = {}): V1ValidatingWebhookConfiguration {
  const target = o.target ?? { service: { name: 'meshlet', namespace: INSTALL_NAMESPACE, port: PORTS.webhook } };
  const clientConfig = 'url' in target ? { url: `${target.url.replace(/\/$/, '')}${VALIDATE_PATH}` } : { service: { ...target.service, path: VALIDATE_PATH } };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: VALIDATING_CONFIGURATION, labels: { 'app.kubernetes.io/part-of': 'meshlet' } },
    webhooks: [{
      name: VALIDATING_WEBHOOK_NAME,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: o.failurePolicy ?? 'Fail',
      matchPolicy: 'Equivalent',
      timeoutSeconds: o.timeoutSeconds ?? 10,
      clientConfig: { ...clientConfig, ...(o.caBundlePem !== undefined ? { caBundle: Buffer.from(o.caBundlePem).toString('base64') } : {}) },
      rules: validatingRules(),
    }],
  };
}
