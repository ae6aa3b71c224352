/**
 * Validation of mesh objects before they enter the World. The schema-level rules live
 * with the CRDs (crds/); these are the checks translation itself depends on, so a bad
 * object can never produce a bad snapshot. Errors keep the object out (the last accepted
 * version stays); warnings are reported in status only.
 */
import { RE2JS } from 're2js';
import type { K8sObject } from '../world/objects.ts';
import { validateObject } from '../../crds/validate.ts';
import { parseDurationMs } from '../translate/duration.ts';
import { authorizationPolicyFindings } from './authz-findings.ts';
import type { AuthorizationPolicySpec, DestinationRuleSpec, IstioHTTPRoute, IstioStringMatch, PeerAuthenticationSpec, VirtualServiceSpec } from '../translate/istio-types.ts';

export interface ValidationMessage {
  code: string;
  level: 'error' | 'warning';
  path: string;
  message: string;
}

const CODE = 'MESHLET_OPERATOR_OBJECT_INVALID';

class Msgs {
  readonly list: ValidationMessage[] = [];
  error(path: string, message: string): void {
    this.list.push({ code: CODE, level: 'error', path, message });
  }
  warn(path: string, message: string, code = CODE): void {
    this.list.push({ code, level: 'warning', path, message });
  }
  duration(v: unknown, path: string): void {
    if (v !== undefined && (typeof v !== 'string' || parseDurationMs(v) === undefined)) this.error(path, `"${String(v)}" is not a duration (e.g. "1.5s", "100ms")`);
  }
  regex(m: IstioStringMatch | undefined, path: string): void {
    if (m?.regex === undefined) return;
    try {
      RE2JS.compile(m.regex);
    } catch (e) {
      this.error(`${path}.regex`, `invalid RE2 regex: ${(e as Error).message}`);
    }
  }
}

function httpRoute(m: Msgs, r: IstioHTTPRoute, p: string, last: boolean): void {
  const actions = [r.route !== undefined && r.route.length > 0, r.redirect !== undefined, r.directResponse !== undefined].filter(Boolean).length;
  if (actions === 0) m.error(p, 'needs one of route, redirect or directResponse');
  if (actions > 1) m.error(p, 'route, redirect and directResponse are mutually exclusive');
  (r.route ?? []).forEach((d, i) => {
    if (typeof d.destination?.host !== 'string' || d.destination.host === '') m.error(`${p}.route[${i}].destination.host`, 'is required');
    if (d.weight !== undefined && (!Number.isInteger(d.weight) || d.weight < 0)) m.error(`${p}.route[${i}].weight`, 'must be a non-negative integer');
  });
  m.duration(r.timeout, `${p}.timeout`);
  m.duration(r.retries?.perTryTimeout, `${p}.retries.perTryTimeout`);
  if (r.retries?.attempts !== undefined && (!Number.isInteger(r.retries.attempts) || r.retries.attempts < 0)) m.error(`${p}.retries.attempts`, 'must be a non-negative integer');
  m.duration(r.fault?.delay?.fixedDelay, `${p}.fault.delay.fixedDelay`);
  const abort = r.fault?.abort;
  if (abort !== undefined && abort.httpStatus === undefined && abort.grpcStatus === undefined) m.error(`${p}.fault.abort`, 'needs httpStatus or grpcStatus');
  if (abort?.httpStatus !== undefined && (abort.httpStatus < 200 || abort.httpStatus > 599)) m.error(`${p}.fault.abort.httpStatus`, 'must be in [200, 599]');
  for (const [i, mt] of (r.match ?? []).entries()) {
    for (const k of ['uri', 'scheme', 'method', 'authority'] as const) m.regex(mt[k], `${p}.match[${i}].${k}`);
    for (const k of ['headers', 'queryParams', 'withoutHeaders'] as const) for (const [h, sm] of Object.entries(mt[k] ?? {})) m.regex(sm, `${p}.match[${i}].${k}.${h}`);
  }
  if (!last && (r.match === undefined || r.match.length === 0)) m.warn(p, 'route matches every request, so the routes after it are never used');
  if (r.redirect?.redirectCode !== undefined && (r.redirect.redirectCode < 300 || r.redirect.redirectCode > 399)) m.error(`${p}.redirect.redirectCode`, 'must be in [300, 399]');
}

function virtualService(m: Msgs, s: VirtualServiceSpec): void {
  if (!Array.isArray(s.hosts) || s.hosts.length === 0) m.error('spec.hosts', 'at least one host is required');
  const http = s.http ?? [];
  http.forEach((r, i) => httpRoute(m, r, `spec.http[${i}]`, i === http.length - 1));
}

function destinationRule(m: Msgs, s: DestinationRuleSpec): void {
  if (typeof s.host !== 'string' || s.host === '') m.error('spec.host', 'is required');
  const seen = new Set<string>();
  (s.subsets ?? []).forEach((sub, i) => {
    if (typeof sub.name !== 'string' || sub.name === '') m.error(`spec.subsets[${i}].name`, 'is required');
    else if (seen.has(sub.name)) m.error(`spec.subsets[${i}].name`, `duplicate subset "${sub.name}"`);
    seen.add(sub.name);
  });
  const tp = s.trafficPolicy;
  m.duration(tp?.connectionPool?.tcp?.connectTimeout, 'spec.trafficPolicy.connectionPool.tcp.connectTimeout');
  m.duration(tp?.connectionPool?.http?.idleTimeout, 'spec.trafficPolicy.connectionPool.http.idleTimeout');
  m.duration(tp?.outlierDetection?.interval, 'spec.trafficPolicy.outlierDetection.interval');
  m.duration(tp?.outlierDetection?.baseEjectionTime, 'spec.trafficPolicy.outlierDetection.baseEjectionTime');
}

const MODES = new Set(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']);

function peerAuthentication(m: Msgs, s: PeerAuthenticationSpec): void {
  if (s.mtls?.mode !== undefined && !MODES.has(s.mtls.mode)) m.error('spec.mtls.mode', 'must be one of UNSET, DISABLE, PERMISSIVE, STRICT');
  for (const [port, v] of Object.entries(s.portLevelMtls ?? {})) {
    if (v.mode !== undefined && !MODES.has(v.mode)) m.error(`spec.portLevelMtls.${port}.mode`, 'must be one of UNSET, DISABLE, PERMISSIVE, STRICT');
  }
  if (s.portLevelMtls !== undefined && Object.keys(s.selector?.matchLabels ?? {}).length === 0) m.error('spec.portLevelMtls', 'needs a workload selector (Istio ignores port-level mTLS without one)');
}

function authorizationPolicy(m: Msgs, s: AuthorizationPolicySpec): void {
  if (s.action !== undefined && !['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'].includes(s.action)) m.error('spec.action', 'must be one of ALLOW, DENY, AUDIT, CUSTOM');
  // Never silently ignored: CUSTOM and JWT attributes are reported in status (translation skips CUSTOM).
  for (const f of authorizationPolicyFindings(s)) m.warn(f.path, f.message, f.code);
}

/**
 * Validation messages for one object (empty for kinds meshlet does not own): the CRD
 * validator's (schema and Istio rules) plus these, without repeating a path it reported.
 */
export function validateMeshObject(o: K8sObject): ValidationMessage[] {
  const crd = validateObject(o);
  const seen = new Set(crd.map((m) => `${m.level}:${m.path}`));
  return [...crd, ...operatorChecks(o).filter((m) => !seen.has(`${m.level}:${m.path}`))];
}

/** The checks translation depends on. */
export function operatorChecks(o: K8sObject): ValidationMessage[] {
  const m = new Msgs();
  const spec = o.spec;
  if (spec !== undefined && (typeof spec !== 'object' || spec === null || Array.isArray(spec))) {
    m.error('spec', 'must be an object');
    return m.list;
  }
  const s = (spec ?? {}) as never;
  if (o.kind === 'VirtualService') virtualService(m, s);
  else if (o.kind === 'DestinationRule') destinationRule(m, s);
  else if (o.kind === 'PeerAuthentication') peerAuthentication(m, s);
  else if (o.kind === 'AuthorizationPolicy') authorizationPolicy(m, s);
  return m.list;
}
