/** Istio's ValidateAttribute for AuthorizationPolicy `when` conditions. */
import type { Collector } from '../messages.ts';
import { at, idx, list, strAt } from '../messages.ts';
import type { Obj } from '../messages.ts';
import { cidrProblem } from './values.ts';

const PLAIN_KEYS = new Set(['source.ip', 'remote.ip', 'source.namespace', 'source.serviceAccount', 'source.principal', 'source.trustDomain', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'destination.port', 'connection.sni']);
const MAP_PREFIXES = ['request.headers', 'request.experimental.inline.headers', 'request.auth.claims', 'experimental.envoy.filters.'];
const IP_KEYS = new Set(['source.ip', 'remote.ip', 'destination.ip']);

/** `a[b]` with a non-empty b, as Istio's validateMapKey wants. */
const isMapKey = (key: string): boolean => {
  const open = key.indexOf('[');
  return key.endsWith(']') && open > 0 && open < key.length - 2;
};

/** Why the key is refused, or undefined when it is a known attribute. */
function keyProblem(key: string): string | undefined {
  if (key === '') return '`key` must not be empty';
  if (PLAIN_KEYS.has(key)) return undefined;
  const prefix = MAP_PREFIXES.find((p) => key.startsWith(p));
  if (prefix !== undefined) return isMapKey(key) ? undefined : `bad key "${key}": should have the form ${prefix.replace(/\.$/, '')}[name]`;
  if (key === 'destination.namespace') return 'destination.namespace is replaced by the policy\'s metadata.namespace';
  if (key.startsWith('destination.labels')) return 'destination.labels is replaced by the workload selector';
  if (key === 'destination.name' || key === 'destination.user') return `${key} is deprecated (v1alpha1 only)`;
  return `unknown attribute "${key}"`;
}

const CUSTOM_UNSUPPORTED = (key: string): boolean => key === 'source.namespace' || key === 'source.serviceAccount' || key === 'source.principal' || key.startsWith('request.auth.');

export function checkCondition(w: Obj, path: string, c: Collector, action: string): void {
  const key = strAt(w.key) ?? '';
  const problem = keyProblem(key);
  if (problem !== undefined) c.error('MESHLET_CRD_AP_WHEN_KEY', at(path, 'key'), problem);
  else if (action === 'CUSTOM' && CUSTOM_UNSUPPORTED(key)) c.error('MESHLET_CRD_AP_CUSTOM', at(path, 'key'), `${key} is not supported with action CUSTOM`);
  else if (key.startsWith('experimental.') || key.startsWith('request.experimental.')) c.warn('MESHLET_CRD_NOT_ENFORCED', at(path, 'key'), `accepted but not enforced by meshlet yet: ${key} is an Envoy-specific attribute`);
  const values = list(w.values);
  const notValues = list(w.notValues);
  if (values.length === 0 && notValues.length === 0) return c.error('MESHLET_CRD_AP_VALUE', path, `condition "${key}" needs values or notValues`);
  for (const [field, vals] of [['values', values], ['notValues', notValues]] as const) {
    vals.forEach((v, i) => {
      if (typeof v !== 'string') return;
      const vp = idx(at(path, field), i);
      if (v === '') return c.error('MESHLET_CRD_AP_VALUE', vp, 'value must not be empty');
      if (IP_KEYS.has(key)) {
        const p = cidrProblem(v);
        if (p !== undefined) c.error('MESHLET_CRD_CIDR', vp, p);
      } else if (key === 'destination.port' && (!/^\d+$/.test(v) || Number(v) > 65535)) c.error('MESHLET_CRD_PORT', vp, `"${v}" is not a port in 0..65535`);
      else if (key === 'source.serviceAccount' && (v.includes('*') || v.split('/').length > 2 || v.split('/').some((s) => s === ''))) {
        c.error('MESHLET_CRD_AP_SERVICE_ACCOUNT', vp, `"${v}": expected "serviceAccount" or "namespace/serviceAccount" without wildcards`);
      }
    });
  }
}
