/** Istio's PeerAuthentication and AuthorizationPolicy rules. */
import type { Collector } from '../messages.ts';
import { at, idx, isObj, list, objAt, strAt } from '../messages.ts';
import type { Obj } from '../messages.ts';
import { checkWorkloadSelector, cidrProblem } from './values.ts';
import { checkCondition } from './authz-condition.ts';

export function checkPeerAuthentication(spec: Obj, c: Collector): void {
  const selector = objAt(spec.selector);
  checkWorkloadSelector(selector, 'spec.selector', c);
  const ports = objAt(spec.portLevelMtls);
  if (ports === undefined) return;
  if (Object.keys(ports).length === 0) return c.error('MESHLET_CRD_PORT', 'spec.portLevelMtls', 'portLevelMtls, if set, must have at least one port');
  if (selector === undefined || Object.keys(objAt(selector.matchLabels) ?? {}).length === 0) {
    c.error('MESHLET_CRD_PA_SELECTOR', 'spec.portLevelMtls', 'port-level mTLS needs a workload selector with matchLabels (a mesh/namespace policy cannot have it)');
  }
  for (const key of Object.keys(ports)) {
    const n = Number(key);
    if (!/^\d+$/.test(key) || n < 1 || n > 65535) c.error('MESHLET_CRD_PORT', idx('spec.portLevelMtls', key), `"${key}" is not a port in 1..65535`);
  }
}

/** The rule (as Istio's matcher reads values): "*" at most once, as a prefix or a suffix. */
function checkWildcard(v: string, path: string, c: Collector): void {
  const stars = v.split('*').length - 1;
  if (stars === 0 || v === '*') return;
  if (v.includes('{*}') || v.includes('{**}')) return; // path templates: checked by checkPathTemplate
  if (stars > 1 || !(v.startsWith('*') || v.endsWith('*'))) c.error('MESHLET_CRD_AP_WILDCARD', path, `"${v}": "*" may appear once, at the start or the end`);
}

const LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;
/** Istio's CheckValidPathTemplate: {*} and {**} as whole segments, {**} last. */
function checkPathTemplate(p: string, path: string, c: Collector): void {
  const templated = p.includes('{*}') || p.includes('{**}');
  let sawAny = false;
  for (const glob of p.replace(/^\/+|\/+$/g, '').split('/')) {
    if ((glob === '{*}' || glob === '{**}') && !sawAny) {
      sawAny = glob === '{**}';
      continue;
    }
    if (glob === '{*}' || glob === '{**}') return c.error('MESHLET_CRD_AP_PATH', path, `"${p}": {**} must be the last operator`);
    if (/[{}]/.test(glob)) return c.error('MESHLET_CRD_AP_PATH', path, `"${p}" contains "{" or "}" beyond a supported path template`);
    if (templated && !LITERAL.test(glob)) return c.error('MESHLET_CRD_AP_PATH', path, `"${p}": segment "${glob}" is not a valid path literal`);
  }
}

function checkServiceAccounts(values: unknown[], path: string, c: Collector): void {
  if (values.length > 16) c.error('MESHLET_CRD_AP_SERVICE_ACCOUNT', path, `${values.length} values, at most 16 allowed`);
  values.forEach((v, i) => {
    if (typeof v !== 'string' || v === '') return;
    const vp = idx(path, i);
    const parts = v.split('/');
    if (v.includes('*')) c.error('MESHLET_CRD_AP_SERVICE_ACCOUNT', vp, `"${v}": wildcards are not allowed`);
    else if (parts.length > 2 || parts.some((s) => s === '')) c.error('MESHLET_CRD_AP_SERVICE_ACCOUNT', vp, `"${v}": expected "serviceAccount" or "namespace/serviceAccount"`);
    else if (v.length > 320) c.error('MESHLET_CRD_AP_SERVICE_ACCOUNT', vp, 'longer than 320 characters');
  });
}

const WILDCARD_FIELDS = new Set(['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'hosts', 'notHosts', 'paths', 'notPaths', 'methods', 'notMethods']);
const IP_FIELDS = new Set(['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks']);

/** Istio's ValidatePorts: an unsigned integer up to 65535. */
export function checkPortString(v: string, path: string, c: Collector): void {
  if (!/^\d+$/.test(v) || Number(v) > 65535) c.error('MESHLET_CRD_PORT', path, `"${v}" is not a port in 0..65535`);
}

function checkValues(o: Obj, path: string, c: Collector): void {
  for (const [k, vals] of Object.entries(o)) {
    const fp = at(path, k);
    if (k === 'serviceAccounts' || k === 'notServiceAccounts') checkServiceAccounts(list(vals), fp, c);
    list(vals).forEach((v, i) => {
      if (typeof v !== 'string') return;
      const vp = idx(fp, i);
      if (v === '') return c.error('MESHLET_CRD_AP_VALUE', vp, 'value must not be empty');
      if (WILDCARD_FIELDS.has(k)) checkWildcard(v, vp, c);
      if (k === 'paths' || k === 'notPaths') checkPathTemplate(v, vp, c);
      if (IP_FIELDS.has(k)) {
        const p = cidrProblem(v);
        if (p !== undefined) c.error('MESHLET_CRD_CIDR', vp, p);
      }
      if (k === 'ports' || k === 'notPorts') checkPortString(v, vp, c);
    });
  }
}

const nonEmpty = (o: Obj, keys: readonly string[]): boolean => keys.some((k) => list(o[k]).length > 0);
const CUSTOM_UNSUPPORTED_SOURCE = ['namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals'];

function checkRule(r: Obj, path: string, c: Collector, action: string): void {
  let fromHttpOnly = false;
  let toHttpOnly = false;
  for (const [field, inner] of [['from', 'source'], ['to', 'operation']] as const) {
    const entries = r[field];
    if (Array.isArray(entries) && entries.length === 0) c.error('MESHLET_CRD_AP_EMPTY', at(path, field), `\`${field}\` must not be an empty list`);
    list(entries).forEach((e, i) => {
      const ep = at(idx(at(path, field), i), inner);
      const o = objAt(objAt(e)?.[inner]);
      if (o === undefined || Object.values(o).every((v) => !Array.isArray(v) || v.length === 0)) return c.error('MESHLET_CRD_AP_EMPTY', ep, `\`${field}.${inner}\` must not be empty`);
      checkValues(o, ep, c);
      if (inner === 'source') {
        if (nonEmpty(o, ['principals', 'notPrincipals', 'namespaces', 'notNamespaces']) && nonEmpty(o, ['serviceAccounts', 'notServiceAccounts'])) {
          c.error('MESHLET_CRD_AP_SERVICE_ACCOUNT', ep, 'serviceAccounts cannot be combined with namespaces or principals');
        }
        for (const k of CUSTOM_UNSUPPORTED_SOURCE) if (action === 'CUSTOM' && list(o[k]).length > 0) c.error('MESHLET_CRD_AP_CUSTOM', at(ep, k), `${k} is not supported with action CUSTOM`);
        fromHttpOnly = !nonEmpty(o, ['principals', 'notPrincipals', 'ipBlocks', 'notIpBlocks', 'namespaces', 'notNamespaces', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts']);
      } else toHttpOnly = toHttpOnly || !nonEmpty(o, ['ports', 'notPorts']);
    });
  }
  list(r.when).forEach((w, i) => {
    if (isObj(w)) checkCondition(w, idx(at(path, 'when'), i), c, action);
  });
  // Istio warns: a DENY rule on HTTP-only attributes denies every TCP connection in scope.
  const hasFrom = list(r.from).length > 0;
  const hasTo = list(r.to).length > 0;
  if (action === 'DENY' && ((hasFrom && !hasTo && fromHttpOnly) || (hasTo && toHttpOnly))) {
    c.warn('MESHLET_CRD_AP_TCP_DENY', path, 'this DENY rule uses only HTTP attributes, so it denies all traffic to TCP ports in its scope; add ports to limit it');
  }
}

const TARGET_KINDS = new Set(['/Service', 'networking.istio.io/ServiceEntry', 'gateway.networking.k8s.io/Gateway', 'gateway.networking.k8s.io/GatewayClass']);

export function checkTargetRef(t: unknown, path: string, c: Collector): void {
  const o = objAt(t);
  if (o === undefined) return;
  if ((strAt(o.namespace) ?? '') !== '') c.error('MESHLET_CRD_AP_TARGET_REF', at(path, 'namespace'), 'targetRef namespace must not be set: cross-namespace references are not supported');
  const group = strAt(o.group) ?? '';
  const key = `${group === 'core' ? '' : group}/${strAt(o.kind) ?? ''}`;
  if (!TARGET_KINDS.has(key)) c.error('MESHLET_CRD_AP_TARGET_REF', path, `targetRef must be a Service, ServiceEntry, Gateway or GatewayClass, not ${key}`);
}

export function checkAuthorizationPolicy(spec: Obj, c: Collector): void {
  checkWorkloadSelector(spec.selector, 'spec.selector', c);
  checkTargetRef(spec.targetRef, 'spec.targetRef', c);
  list(spec.targetRefs).forEach((t, i) => checkTargetRef(t, idx('spec.targetRefs', i), c));
  const action = strAt(spec.action) ?? 'ALLOW';
  const rules = list(spec.rules);
  const provider = objAt(spec.provider);
  if (action === 'CUSTOM') {
    if (spec.rules === undefined || spec.rules === null) c.error('MESHLET_CRD_AP_CUSTOM', 'spec.rules', 'a CUSTOM policy without rules never triggers; add rules (an empty rule {} matches every request)');
    if (provider === undefined || (strAt(provider.name) ?? '') === '') c.error('MESHLET_CRD_AP_CUSTOM', 'spec.provider.name', 'a CUSTOM policy needs provider.name');
  } else if (provider !== undefined) {
    c.error('MESHLET_CRD_AP_PROVIDER', 'spec.provider', `provider is only allowed with action CUSTOM (action is ${action})`);
  }
  if (action === 'DENY' && (spec.rules === undefined || spec.rules === null)) c.error('MESHLET_CRD_AP_NO_RULES', 'spec.rules', 'a DENY policy without rules never matches; add rules (an empty rule {} matches every request)');
  rules.forEach((r, i) => {
    if (isObj(r)) checkRule(r, idx('spec.rules', i), c, action);
  });
}
