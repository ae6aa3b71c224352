/** Istio's PeerAuthentication and AuthorizationPolicy rules. */
import { at, idx, isObj, list, objAt, strAt } from '../messages.ts';
import type { Obj , Collector} from '../messages.ts';
import { checkLabels, cidrProblem } from './values.ts';

export function checkPeerAuthentication(spec: Obj, c: Collector): void {
  const selector = objAt(spec.selector);
  checkLabels(selector?.matchLabels, 'spec.selector.matchLabels', c);
  const ports = objAt(spec.portLevelMtls);
  if (ports === undefined || Object.keys(ports).length === 0) return;
  if (selector === undefined || Object.keys(objAt(selector.matchLabels) ?? {}).length === 0) {
    c.error('MESHLET_CRD_PA_SELECTOR', 'spec.portLevelMtls', 'port-level mTLS needs a workload selector with matchLabels');
  }
  for (const key of Object.keys(ports)) {
    const n = Number(key);
    if (!/^\d+$/.test(key) || n < 1 || n > 65535) c.error('MESHLET_CRD_PORT', idx('spec.portLevelMtls', key), `"${key}" is not a port in 1..65535`);
  }
}

/** Istio: "*" at most once, and only as a prefix or suffix. */
function checkWildcard(v: string, path: string, c: Collector): void {
  const stars = v.split('*').length - 1;
  if (stars === 0 || v === '*') return;
  if (v.includes('{*}') || v.includes('{**}')) return; // path templates are checked by the proxy's matcher
  if (stars > 1 || !(v.startsWith('*') || v.endsWith('*'))) c.error('MESHLET_CRD_AP_WILDCARD', path, `"${v}": "*" may appear once, at the start or the end`);
}

const WILDCARD_FIELDS = ['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'hosts', 'notHosts', 'paths', 'notPaths', 'methods', 'notMethods'];
const IP_FIELDS = ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'];
const PORT_FIELDS = ['ports', 'notPorts'];

function checkPortString(v: string, path: string, c: Collector): void {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) c.error('MESHLET_CRD_PORT', path, `"${v}" is not a port in 1..65535`);
}

function checkValues(o: Obj, path: string, c: Collector): void {
  for (const [k, vals] of Object.entries(o)) {
    list(vals).forEach((v, i) => {
      if (typeof v !== 'string') return;
      const vp = idx(at(path, k), i);
      if (v === '') return c.error('MESHLET_CRD_AP_VALUE', vp, 'value must not be empty');
      if (WILDCARD_FIELDS.includes(k)) checkWildcard(v, vp, c);
      if (IP_FIELDS.includes(k)) {
        const p = cidrProblem(v);
        if (p !== undefined) c.error('MESHLET_CRD_CIDR', vp, p);
      }
      if (PORT_FIELDS.includes(k)) checkPortString(v, vp, c);
    });
  }
}

const KNOWN_KEYS = new Set(['source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'destination.port', 'connection.sni']);

function checkCondition(w: Obj, path: string, c: Collector): void {
  const key = strAt(w.key) ?? '';
  const known = KNOWN_KEYS.has(key) || /^request\.headers\[[^\]]+\]$/.test(key) || /^request\.auth\.claims\[.+\]$/.test(key) || key.startsWith('experimental.envoy.filters.');
  if (!known) c.error('MESHLET_CRD_AP_WHEN_KEY', at(path, 'key'), `unknown attribute "${key}"`);
  const values = list(w.values);
  const notValues = list(w.notValues);
  if (values.length === 0 && notValues.length === 0) c.error('MESHLET_CRD_AP_VALUE', path, `condition "${key}" needs values or notValues`);
  for (const [field, vals] of [['values', values], ['notValues', notValues]] as const) {
    vals.forEach((v, i) => {
      if (typeof v !== 'string') return;
      const vp = idx(at(path, field), i);
      if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') {
        const p = cidrProblem(v);
        if (p !== undefined) c.error('MESHLET_CRD_CIDR', vp, p);
      } else if (key === 'destination.port') checkPortString(v, vp, c);
    });
  }
}

function checkRule(r: Obj, path: string, c: Collector): void {
  for (const [field, inner] of [['from', 'source'], ['to', 'operation']] as const) {
    const entries = r[field];
    if (Array.isArray(entries) && entries.length === 0) c.error('MESHLET_CRD_AP_EMPTY', at(path, field), `\`${field}\` must not be an empty list`);
    list(entries).forEach((e, i) => {
      const ep = idx(at(path, field), i);
      const o = objAt(objAt(e)?.[inner]);
      if (o === undefined || Object.values(o).every((v) => !Array.isArray(v) || v.length === 0)) {
        c.error('MESHLET_CRD_AP_EMPTY', at(ep, inner), `\`${field}.${inner}\` must not be empty`);
        return;
      }
      checkValues(o, at(ep, inner), c);
    });
  }
  list(r.when).forEach((w, i) => {
    if (isObj(w)) checkCondition(w, idx(at(path, 'when'), i), c);
  });
}

export function checkAuthorizationPolicy(spec: Obj, c: Collector): void {
  checkLabels(objAt(spec.selector)?.matchLabels, 'spec.selector.matchLabels', c);
  const action = strAt(spec.action) ?? 'ALLOW';
  const rules = spec.rules;
  const ruleCount = list(rules).length;
  const provider = objAt(spec.provider);
  if (action === 'CUSTOM') {
    if (provider === undefined || (strAt(provider.name) ?? '') === '') c.error('MESHLET_CRD_AP_CUSTOM', 'spec.provider.name', 'a CUSTOM policy needs provider.name');
    if (ruleCount === 0) c.error('MESHLET_CRD_AP_CUSTOM', 'spec.rules', 'a CUSTOM policy without rules never triggers; add rules (an empty rule {} matches every request)');
  } else if (provider !== undefined) {
    c.error('MESHLET_CRD_AP_PROVIDER', 'spec.provider', `provider is only allowed with action CUSTOM (action is ${action})`);
  }
  if (action === 'DENY' && ruleCount === 0) c.error('MESHLET_CRD_AP_NO_RULES', 'spec.rules', 'a DENY policy without rules never matches; add rules (an empty rule {} matches every request)');
  list(rules).forEach((r, i) => {
    if (isObj(r)) checkRule(r, idx('spec.rules', i), c);
  });
}
