/**
 * The full validation of a meshlet/Istio object: the structural pass over the generated
 * tables, then Istio's cross-field rules. Pure (no I/O): the webhook, the operator (for
 * status.validationMessages) and `meshlet validate` all call `validateObject`.
 */
import { ISTIO_KINDS, KIND_GROUPS, KIND_VERSIONS } from './generated/types.ts';
import type { IstioKind } from './generated/types.ts';
import { Collector, isObj, objAt, strAt } from './messages.ts';
import type { Obj, ValidationMessage } from './messages.ts';
import { checkStructure } from './structural.ts';
import { checkVirtualService } from './rules/virtual-service.ts';
import { checkDestinationRule } from './rules/destination-rule.ts';
import { checkAuthorizationPolicy, checkPeerAuthentication } from './rules/security.ts';
import { checkRequestAuthentication } from './rules/request-authentication.ts';

export type { ValidationMessage } from './messages.ts';

const RULES: Record<IstioKind, (spec: Obj, c: Collector, namespace?: string) => void> = {
  VirtualService: checkVirtualService,
  DestinationRule: checkDestinationRule,
  PeerAuthentication: checkPeerAuthentication,
  AuthorizationPolicy: checkAuthorizationPolicy,
  RequestAuthentication: checkRequestAuthentication,
};

export const isIstioKind = (k: unknown): k is IstioKind => typeof k === 'string' && (ISTIO_KINDS as readonly string[]).includes(k);

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Validates the spec of one kind; paths start at `spec`. `namespace` (the object's) sharpens
 * the exportTo checks; without it "." is compared as is.
 */
export function validateSpec(kind: IstioKind, spec: unknown, namespace?: string): ValidationMessage[] {
  const c = new Collector();
  checkStructure(kind, spec, 'spec', c);
  // Cross-field rules assume the right types; with type errors they would only add noise.
  if (isObj(spec) && !c.messages.some((m) => m.code === 'MESHLET_CRD_TYPE')) RULES[kind](spec, c, namespace);
  return c.messages;
}

/** Validates a whole object (apiVersion, kind, metadata.name, spec). Never throws. */
export function validateObject(obj: unknown): ValidationMessage[] {
  const c = new Collector();
  if (!isObj(obj)) {
    c.error('MESHLET_CRD_NOT_OBJECT', '', 'not an object');
    return c.messages;
  }
  const kind = obj.kind;
  if (!isIstioKind(kind)) {
    c.error('MESHLET_CRD_NOT_OBJECT', 'kind', `kind ${JSON.stringify(kind)} is not one of ${ISTIO_KINDS.join(', ')}`);
    return c.messages;
  }
  const apiVersion = strAt(obj.apiVersion) ?? '';
  const [group, version] = apiVersion.split('/');
  if (group !== KIND_GROUPS[kind] || !(KIND_VERSIONS[kind] as readonly string[]).includes(version ?? '')) {
    c.error('MESHLET_CRD_BAD_VERSION', 'apiVersion', `"${apiVersion}" does not serve ${kind}; use ${KIND_VERSIONS[kind].map((v) => `${KIND_GROUPS[kind]}/${v}`).join(', ')}`);
  }
  const meta = objAt(obj.metadata);
  const name = strAt(meta?.name) ?? '';
  if (name === '' ? strAt(meta?.generateName) === undefined : name.length > 253 || !NAME.test(name)) {
    c.error('MESHLET_CRD_METADATA', 'metadata.name', name === '' ? 'metadata.name is required' : `"${name}" is not a valid name`);
  }
  if (obj.spec === undefined || obj.spec === null) c.error('MESHLET_CRD_REQUIRED', 'spec', 'spec is required');
  else {
    try {
      c.messages.push(...validateSpec(kind, obj.spec, strAt(meta?.namespace)));
    } catch (err) {
      c.error('MESHLET_CORE_INTERNAL', 'spec', `validator failed: ${(err as Error).message}`);
    }
  }
  return c.messages;
}

/** Only the errors (what makes the apiserver/webhook refuse the object). */
export const errorsOf = (msgs: readonly ValidationMessage[]): ValidationMessage[] => msgs.filter((m) => m.level === 'error');

/** Fields set on the object that meshlet accepts but does not enforce yet (status warnings). */
export function unenforcedWarnings(obj: unknown): ValidationMessage[] {
  return validateObject(obj).filter((m) => m.code === 'MESHLET_CRD_NOT_ENFORCED');
}
