/** Types shared by several kinds (Istio's common protos: StringMatch, Percent, selectors…). */
import { labels, map, num, obj, str, strings, uint32 } from './dsl.ts';
import type { ObjectField } from './dsl.ts';

export const stringMatch = obj('StringMatch', 'Describes how to match a given string: exactly one of exact, prefix or regex (RE2 syntax).', {
  exact: str('exact string match'),
  prefix: str('prefix-based match'),
  regex: str('RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax).'),
}, { oneOf: [['exact', 'prefix', 'regex']] });

export const percent = obj('Percent', 'Percent specifies a percentage in the range of [0.0, 100.0].', {
  value: num('percentage, 0 or in [0.0001, 100]'),
}, { cel: [{ rule: '!has(self.value) || self.value == 0.0 || (self.value >= 0.0001 && self.value <= 100.0)', code: 'MESHLET_CRD_PERCENTAGE', message: 'percentage must be 0 or in [0.0001, 100]', fieldPath: '.value' }] });

export const portSelector = obj('PortSelector', 'PortSelector specifies the number of a port to be used for matching or selection.', {
  number: uint32('Valid port number', { max: 4294967295 }),
});

export const workloadSelector = obj('WorkloadSelector', 'Selects the pods (workloads) by their labels, in the namespace of the object.', {
  matchLabels: labels('One or more labels that indicate a specific set of pods/VMs on which this policy applies.'),
});

export const policyTargetReference = obj('PolicyTargetReference', 'A reference to a Kubernetes resource the policy attaches to (Gateway API policy attachment).', {
  group: str('group is the group of the target resource.'),
  kind: str('kind is kind of the target resource.'),
  name: str('name is the name of the target resource.'),
  namespace: str('namespace is the namespace of the referent; defaults to the policy namespace.'),
}, { required: ['kind', 'name'] });

export const headerOperations = obj('HeaderOperations', 'HeaderOperations describes the header manipulations to apply.', {
  set: map('Overwrite the headers specified by key with the given values', str('')),
  add: map('Append the given values to the headers specified by keys', str('')),
  remove: strings('Remove the specified headers'),
});

export const headers = obj('Headers', 'Message headers can be manipulated when Envoy forwards requests to, or responses from, a destination service.', {
  request: headerOperations,
  response: headerOperations,
});

export const destination = obj('Destination', 'Destination indicates the network addressable service to which the request/connection will be sent after processing a routing rule.', {
  host: str('The name of a service from the service registry (FQDN or short name).'),
  subset: str('The name of a subset within the service, defined in a DestinationRule.'),
  port: portSelector,
}, { required: ['host'] });


/** A `{key, values, notValues}` condition of an AuthorizationPolicy rule. */
export function condition(): ObjectField {
  return obj('Condition', 'Condition specifies additional required attributes.', {
    key: str('The name of an Istio attribute (see the authorization-policy conditions reference).'),
    values: strings('A list of allowed values for the attribute.'),
    notValues: strings('A list of negative match of values for the attribute.'),
  }, { required: ['key'] });
}
