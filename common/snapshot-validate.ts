/**
 * Validates a ProxySnapshot before the proxy swaps it in. Checks shape, ranges and that
 * every reference (listener → route table, route → cluster, cluster → endpoint set)
 * resolves, so a snapshot that passes can be compiled without further checks.
 * A refused snapshot is NACKed with MESHLET_SNAPSHOT_INVALID and the first error's path.
 */
import { re2 } from './re2.ts';
import { isIP } from 'node:net';
import type { ProxySnapshot, StringMatch, WeightedCluster, HeaderOps } from './snapshot.ts';
import { PROTOCOLS as PROTOCOL_VALUES } from './snapshot/base.ts';
import { MATCH_TYPES as MATCH_TYPE_VALUES } from './snapshot/routing.ts';
import { AUTHZ_ACTIONS as AUTHZ_ACTION_VALUES, MTLS_MODES as MTLS_MODE_VALUES } from './snapshot/security.ts';
import { LB_POLICIES as LB_POLICY_VALUES, TLS_MODES as TLS_MODE_VALUES } from './snapshot/upstream.ts';

export interface SnapshotError {
  /** JSON path of the offending field, e.g. `routes[0].virtualHosts[1].routes[2].action`. */
  path: string;
  /** What is wrong. */
  reason: string;
}

export type SnapshotValidation = { ok: true; snapshot: ProxySnapshot } | { ok: false; errors: SnapshotError[] };

type Obj = Record<string, unknown>;

// The closed sets come from the contract's own lists (common/snapshot/*.ts), never a copy.
const PROTOCOLS = new Set<string>(PROTOCOL_VALUES);
const LB_POLICIES = new Set<string>(LB_POLICY_VALUES);
const TLS_MODES = new Set<string>(TLS_MODE_VALUES);
const MTLS_MODES = new Set<string>(MTLS_MODE_VALUES);
const AUTHZ_ACTIONS = new Set<string>(AUTHZ_ACTION_VALUES);
const MATCH_TYPES = new Set<string>(MATCH_TYPE_VALUES);

class Checker {
  readonly errors: SnapshotError[] = [];
  fail(path: string, reason: string): void {
    this.errors.push({ path, reason });
  }
  obj(v: unknown, path: string): v is Obj {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return true;
    this.fail(path, 'must be an object');
    return false;
  }
  arr(v: unknown, path: string): v is unknown[] {
    if (Array.isArray(v)) return true;
    this.fail(path, 'must be an array');
    return false;
  }
  str(v: unknown, path: string, nonEmpty = true): v is string {
    if (typeof v === 'string' && (!nonEmpty || v.length > 0)) return true;
    this.fail(path, nonEmpty ? 'must be a non-empty string' : 'must be a string');
    return false;
  }
  num(v: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER, integer = true): v is number {
    if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))) return true;
    this.fail(path, `must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
    return false;
  }
  oneOf(v: unknown, set: Set<string>, path: string): boolean {
    if (typeof v === 'string' && set.has(v)) return true;
    this.fail(path, `must be one of ${[...set].join(', ')}`);
    return false;
  }
  optional(v: unknown, check: () => void): void {
    if (v !== undefined) check();
  }
  provenance(v: unknown, path: string): void {
    if (!this.obj(v, `${path}.provenance`)) return;
    this.str(v.kind, `${path}.provenance.kind`);
    this.str(v.namespace, `${path}.provenance.namespace`, false);
    this.str(v.name, `${path}.provenance.name`);
  }
  stringMatch(v: unknown, path: string): void {
    if (!this.obj(v, path)) return;
    if (!this.oneOf(v.type, MATCH_TYPES, `${path}.type`)) return;
    // An empty prefix means "present" (header matches); an empty exact or regex is a mistake.
    if (!this.str(v.value, `${path}.value`, v.type !== 'prefix')) return;
    if ((v as unknown as StringMatch).type === 'regex') this.regex(v.value as string, `${path}.value`);
  }
  regex(pattern: string, path: string): void {
    try {
      re2().compile(pattern);
    } catch (err) {
      this.fail(path, `invalid RE2 regex: ${(err as Error).message}`);
    }
  }
  matchMap(v: unknown, path: string): void {
    if (v === undefined || !this.obj(v, path)) return;
    for (const [k, m] of Object.entries(v)) this.stringMatch(m, `${path}.${k}`);
  }
  uniqueNames(items: unknown[], path: string): Set<string> {
    const names = new Set<string>();
    items.forEach((item, i) => {
      if (!this.obj(item, `${path}[${i}]`) || !this.str(item.name, `${path}[${i}].name`)) return;
      if (names.has(item.name as string)) this.fail(`${path}[${i}].name`, `duplicate name "${item.name as string}"`);
      names.add(item.name as string);
    });
    return names;
  }
  headerOps(v: unknown, path: string): void {
    if (v === undefined || !this.obj(v, path)) return;
    const ops = v as HeaderOps;
    for (const key of ['set', 'add'] as const) {
      const m = ops[key];
      if (m !== undefined && this.obj(m, `${path}.${key}`)) {
        for (const [k, val] of Object.entries(m)) this.str(val, `${path}.${key}.${k}`, false);
      }
    }
    if (ops.remove !== undefined && this.arr(ops.remove, `${path}.remove`)) {
      ops.remove.forEach((r, i) => this.str(r, `${path}.remove[${i}]`));
    }
  }
  destinations(v: unknown, path: string, clusters: Set<string>): void {
    if (!this.arr(v, path)) return;
    if (v.length === 0) this.fail(path, 'must have at least one destination');
    let total = 0;
    v.forEach((d, i) => {
      const p = `${path}[${i}]`;
      if (!this.obj(d, p)) return;
      const w = d as unknown as WeightedCluster;
      if (this.str(w.cluster, `${p}.cluster`) && !clusters.has(w.cluster)) this.fail(`${p}.cluster`, `unknown cluster "${w.cluster}"`);
      if (this.num(w.weight, `${p}.weight`, 0)) total += w.weight;
      if (w.headers !== undefined && this.obj(w.headers, `${p}.headers`)) {
        this.headerOps(w.headers.request, `${p}.headers.request`);
        this.headerOps(w.headers.response, `${p}.headers.response`);
      }
    });
    if (v.length > 0 && total === 0) this.fail(path, 'destination weights must not all be 0');
  }
}

function checkRoutes(c: Checker, s: Obj, clusters: Set<string>): Set<string> {
  if (!c.arr(s.routes, 'routes')) return new Set();
  const tables = c.uniqueNames(s.routes, 'routes');
  s.routes.forEach((table, ti) => {
    const tp = `routes[${ti}]`;
    if (!c.obj(table, tp)) return;
    c.provenance(table.provenance, tp);
    if (!c.arr(table.virtualHosts, `${tp}.virtualHosts`)) return;
    c.uniqueNames(table.virtualHosts, `${tp}.virtualHosts`);
    table.virtualHosts.forEach((vh, vi) => {
      const vp = `${tp}.virtualHosts[${vi}]`;
      if (!c.obj(vh, vp)) return;
      c.provenance(vh.provenance, vp);
      if (c.arr(vh.domains, `${vp}.domains`)) {
        if (vh.domains.length === 0) c.fail(`${vp}.domains`, 'must list at least one domain');
        vh.domains.forEach((d, i) => c.str(d, `${vp}.domains[${i}]`));
      }
      if (c.arr(vh.routes, `${vp}.routes`)) vh.routes.forEach((r, ri) => checkRoute(c, r, `${vp}.routes[${ri}]`, clusters));
    });
  });
  return tables;
}

function checkRoute(c: Checker, r: unknown, rp: string, clusters: Set<string>): void {
  if (!c.obj(r, rp)) return;
  c.str(r.name, `${rp}.name`);
  c.provenance(r.provenance, rp);
  if (c.arr(r.match, `${rp}.match`)) {
    r.match.forEach((m, mi) => {
      const mp = `${rp}.match[${mi}]`;
      if (!c.obj(m, mp)) return;
      for (const key of ['uri', 'scheme', 'method', 'authority'] as const) c.optional(m[key], () => c.stringMatch(m[key], `${mp}.${key}`));
      c.matchMap(m.headers, `${mp}.headers`);
      c.matchMap(m.queryParams, `${mp}.queryParams`);
      c.matchMap(m.withoutHeaders, `${mp}.withoutHeaders`);
      c.optional(m.port, () => c.num(m.port, `${mp}.port`, 1, 65535));
    });
  }
  if (c.obj(r.action, `${rp}.action`)) {
    const a = r.action;
    if (a.kind === 'forward') c.destinations(a.destinations, `${rp}.action.destinations`, clusters);
    else if (a.kind === 'redirect') {
      if (c.obj(a.redirect, `${rp}.action.redirect`)) c.num(a.redirect.redirectCode, `${rp}.action.redirect.redirectCode`, 300, 399);
    } else if (a.kind === 'directResponse') c.num(a.status, `${rp}.action.status`, 200, 599);
    else c.fail(`${rp}.action.kind`, 'must be one of forward, redirect, directResponse');
  }
  c.num(r.timeoutMs, `${rp}.timeoutMs`, 0);
  if (c.obj(r.retries, `${rp}.retries`)) {
    const rt = r.retries;
    c.num(rt.attempts, `${rp}.retries.attempts`, 0, 1000);
    c.num(rt.perTryTimeoutMs, `${rp}.retries.perTryTimeoutMs`, 0);
    c.num(rt.backoffBaseMs, `${rp}.retries.backoffBaseMs`, 1);
    if (c.arr(rt.retryOn, `${rp}.retries.retryOn`)) rt.retryOn.forEach((t, i) => c.str(t, `${rp}.retries.retryOn[${i}]`));
  }
  c.optional(r.fault, () => {
    if (!c.obj(r.fault, `${rp}.fault`)) return;
    const f = r.fault;
    c.optional(f.delay, () => {
      if (!c.obj(f.delay, `${rp}.fault.delay`)) return;
      c.num(f.delay.fixedDelayMs, `${rp}.fault.delay.fixedDelayMs`, 0);
      c.num(f.delay.percentage, `${rp}.fault.delay.percentage`, 0, 100, false);
    });
    c.optional(f.abort, () => {
      if (!c.obj(f.abort, `${rp}.fault.abort`)) return;
      c.num(f.abort.percentage, `${rp}.fault.abort.percentage`, 0, 100, false);
      if (f.abort.httpStatus === undefined && f.abort.grpcStatus === undefined) c.fail(`${rp}.fault.abort`, 'needs httpStatus or grpcStatus');
      c.optional(f.abort.httpStatus, () => c.num(f.abort && (f.abort as Obj).httpStatus, `${rp}.fault.abort.httpStatus`, 200, 599));
    });
  });
  c.optional(r.mirrors, () => {
    if (!c.arr(r.mirrors, `${rp}.mirrors`)) return;
    r.mirrors.forEach((m, i) => {
      if (!c.obj(m, `${rp}.mirrors[${i}]`)) return;
      if (c.str(m.cluster, `${rp}.mirrors[${i}].cluster`) && !clusters.has(m.cluster as string)) c.fail(`${rp}.mirrors[${i}].cluster`, `unknown cluster "${m.cluster as string}"`);
      c.num(m.percentage, `${rp}.mirrors[${i}].percentage`, 0, 100, false);
    });
  });
  c.optional(r.rewrite, () => {
    if (!c.obj(r.rewrite, `${rp}.rewrite`)) return;
    const rw = r.rewrite;
    c.optional(rw.uriRegexRewrite, () => {
      if (c.obj(rw.uriRegexRewrite, `${rp}.rewrite.uriRegexRewrite`) && c.str(rw.uriRegexRewrite.match, `${rp}.rewrite.uriRegexRewrite.match`)) {
        c.regex(rw.uriRegexRewrite.match as string, `${rp}.rewrite.uriRegexRewrite.match`);
      }
    });
  });
  c.optional(r.headers, () => {
    if (!c.obj(r.headers, `${rp}.headers`)) return;
    c.headerOps(r.headers.request, `${rp}.headers.request`);
    c.headerOps(r.headers.response, `${rp}.headers.response`);
  });
}

function checkClusters(c: Checker, s: Obj, endpointSets: Set<string>): void {
  if (!c.arr(s.clusters, 'clusters')) return;
  s.clusters.forEach((cl, i) => {
    const p = `clusters[${i}]`;
    if (!c.obj(cl, p)) return;
    c.provenance(cl.provenance, p);
    c.str(cl.service, `${p}.service`);
    c.num(cl.port, `${p}.port`, 1, 65535);
    c.oneOf(cl.protocol, PROTOCOLS, `${p}.protocol`);
    if (c.str(cl.endpointSet, `${p}.endpointSet`) && !endpointSets.has(cl.endpointSet as string)) c.fail(`${p}.endpointSet`, `unknown endpoint set "${cl.endpointSet as string}"`);
    if (c.obj(cl.loadBalancer, `${p}.loadBalancer`)) {
      const lb = cl.loadBalancer;
      if (c.oneOf(lb.policy, LB_POLICIES, `${p}.loadBalancer.policy`) && (lb.policy === 'RING_HASH' || lb.policy === 'MAGLEV') && lb.hashOn === undefined) {
        c.fail(`${p}.loadBalancer.hashOn`, `required for ${lb.policy as string}`);
      }
    }
    if (c.obj(cl.connectionPool, `${p}.connectionPool`)) {
      for (const [k, v] of Object.entries(cl.connectionPool)) if (k !== 'tcpKeepalive') c.num(v, `${p}.connectionPool.${k}`, 0);
    }
    c.optional(cl.outlierDetection, () => {
      if (!c.obj(cl.outlierDetection, `${p}.outlierDetection`)) return;
      for (const [k, v] of Object.entries(cl.outlierDetection)) c.num(v, `${p}.outlierDetection.${k}`, 0, k.endsWith('Percent') ? 100 : Number.MAX_SAFE_INTEGER);
    });
    if (c.obj(cl.tls, `${p}.tls`)) c.oneOf(cl.tls.mode, TLS_MODES, `${p}.tls.mode`);
  });
}

function checkEndpoints(c: Checker, s: Obj): Set<string> {
  if (!c.arr(s.endpoints, 'endpoints')) return new Set();
  const names = c.uniqueNames(s.endpoints, 'endpoints');
  s.endpoints.forEach((set, i) => {
    const p = `endpoints[${i}]`;
    if (!c.obj(set, p)) return;
    c.provenance(set.provenance, p);
    if (!c.arr(set.endpoints, `${p}.endpoints`)) return;
    set.endpoints.forEach((e, j) => {
      const ep = `${p}.endpoints[${j}]`;
      if (!c.obj(e, ep)) return;
      if (typeof e.address !== 'string' || isIP(e.address) === 0) c.fail(`${ep}.address`, 'must be an IP address');
      c.num(e.port, `${ep}.port`, 1, 65535);
      c.num(e.weight, `${ep}.weight`, 1);
      if (typeof e.healthy !== 'boolean') c.fail(`${ep}.healthy`, 'must be a boolean');
      c.optional(e.identity, () => c.str(e.identity, `${ep}.identity`));
    });
  });
  return names;
}

function checkListeners(c: Checker, s: Obj, tables: Set<string>, clusters: Set<string>): void {
  if (!c.arr(s.listeners, 'listeners')) return;
  c.uniqueNames(s.listeners, 'listeners');
  s.listeners.forEach((l, i) => {
    const p = `listeners[${i}]`;
    if (!c.obj(l, p)) return;
    c.provenance(l.provenance, p);
    if (l.direction !== 'outbound' && l.direction !== 'inbound') c.fail(`${p}.direction`, 'must be outbound or inbound');
    if (typeof l.address !== 'string' || isIP(l.address) === 0) c.fail(`${p}.address`, 'must be an IP address');
    c.num(l.port, `${p}.port`, 1, 65535);
    c.oneOf(l.protocol, PROTOCOLS, `${p}.protocol`);
    c.optional(l.routeTable, () => {
      if (c.str(l.routeTable, `${p}.routeTable`) && !tables.has(l.routeTable as string)) c.fail(`${p}.routeTable`, `unknown route table "${l.routeTable as string}"`);
    });
    c.optional(l.appPort, () => c.num(l.appPort, `${p}.appPort`, 1, 65535));
    c.optional(l.tcpRoutes, () => {
      if (!c.arr(l.tcpRoutes, `${p}.tcpRoutes`)) return;
      l.tcpRoutes.forEach((t, j) => {
        if (!c.obj(t, `${p}.tcpRoutes[${j}]`)) return;
        c.provenance(t.provenance, `${p}.tcpRoutes[${j}]`);
        c.destinations(t.destinations, `${p}.tcpRoutes[${j}].destinations`, clusters);
      });
    });
  });
}

function checkSecurity(c: Checker, s: Obj): void {
  if (!c.obj(s.security, 'security')) return;
  const pa = s.security.peerAuthentication;
  if (c.obj(pa, 'security.peerAuthentication')) {
    c.provenance(pa.provenance, 'security.peerAuthentication');
    c.oneOf(pa.mode, MTLS_MODES, 'security.peerAuthentication.mode');
    if (c.obj(pa.ports, 'security.peerAuthentication.ports')) {
      for (const [port, mode] of Object.entries(pa.ports)) {
        c.num(Number(port), `security.peerAuthentication.ports.${port}`, 1, 65535);
        c.oneOf(mode, MTLS_MODES, `security.peerAuthentication.ports.${port}`);
      }
    }
  }
  c.optional(s.security.requestAuthentication, () => checkJwtRules(c, s.security as Obj));
  if (!c.arr(s.security.authorization, 'security.authorization')) return;
  s.security.authorization.forEach((pol, i) => {
    const p = `security.authorization[${i}]`;
    if (!c.obj(pol, p)) return;
    c.provenance(pol.provenance, p);
    c.str(pol.name, `${p}.name`);
    c.oneOf(pol.action, AUTHZ_ACTIONS, `${p}.action`);
    if (c.arr(pol.rules, `${p}.rules`)) {
      pol.rules.forEach((rule, j) => {
        const rp = `${p}.rules[${j}]`;
        if (!c.obj(rule, rp)) return;
        c.arr(rule.from, `${rp}.from`);
        c.arr(rule.to, `${rp}.to`);
        if (c.arr(rule.when, `${rp}.when`)) rule.when.forEach((w, k) => c.obj(w, `${rp}.when[${k}]`) && c.str(w.key, `${rp}.when[${k}].key`));
      });
    }
  });
}

function checkJwtRules(c: Checker, sec: Obj): void {
  if (!c.arr(sec.requestAuthentication, 'security.requestAuthentication')) return;
  sec.requestAuthentication.forEach((r, i) => {
    const p = `security.requestAuthentication[${i}]`;
    if (!c.obj(r, p)) return;
    c.provenance(r.provenance, p);
    c.str(r.issuer, `${p}.issuer`, false);
    if (c.arr(r.audiences, `${p}.audiences`)) r.audiences.forEach((a, j) => c.str(a, `${p}.audiences[${j}]`));
    c.optional(r.jwks, () => {
      if (c.obj(r.jwks, `${p}.jwks`) && c.arr(r.jwks.keys, `${p}.jwks.keys`)) r.jwks.keys.forEach((k, j) => c.obj(k, `${p}.jwks.keys[${j}]`) && c.str(k.kty, `${p}.jwks.keys[${j}].kty`));
    });
    if (r.jwks === undefined) c.str(r.jwksError, `${p}.jwksError`);
    if (c.arr(r.locations, `${p}.locations`)) {
      r.locations.forEach((l, j) => {
        const lp = `${p}.locations[${j}]`;
        if (!c.obj(l, lp)) return;
        const n = (l.header === undefined ? 0 : 1) + (l.param === undefined ? 0 : 1) + (l.cookie === undefined ? 0 : 1);
        if (n !== 1) c.fail(lp, 'must have exactly one of header, param, cookie');
        if (l.header !== undefined && c.obj(l.header, `${lp}.header`)) {
          c.str(l.header.name, `${lp}.header.name`);
          c.str(l.header.prefix, `${lp}.header.prefix`, false);
        }
        if (l.param !== undefined) c.str(l.param, `${lp}.param`);
        if (l.cookie !== undefined) c.str(l.cookie, `${lp}.cookie`);
      });
    }
    if (typeof r.forwardOriginalToken !== 'boolean') c.fail(`${p}.forwardOriginalToken`, 'must be a boolean');
    c.optional(r.outputPayloadToHeader, () => c.str(r.outputPayloadToHeader, `${p}.outputPayloadToHeader`));
    if (c.arr(r.outputClaimToHeaders, `${p}.outputClaimToHeaders`)) {
      r.outputClaimToHeaders.forEach((o, j) => c.obj(o, `${p}.outputClaimToHeaders[${j}]`) && c.str(o.header, `${p}.outputClaimToHeaders[${j}].header`) && c.str(o.claim, `${p}.outputClaimToHeaders[${j}].claim`));
    }
    if (c.arr(r.spaceDelimitedClaims, `${p}.spaceDelimitedClaims`)) r.spaceDelimitedClaims.forEach((a, j) => c.str(a, `${p}.spaceDelimitedClaims[${j}]`));
  });
}

/** Validates an untrusted value as a ProxySnapshot; never throws. */
export function validateSnapshot(value: unknown): SnapshotValidation {
  const c = new Checker();
  if (!c.obj(value, '$')) return { ok: false, errors: c.errors };
  const s = value;
  c.str(s.version, 'version');
  if (c.obj(s.proxy, 'proxy')) {
    for (const k of ['id', 'namespace', 'workload', 'serviceAccount', 'spiffeId'] as const) c.str(s.proxy[k], `proxy.${k}`);
    c.str(s.proxy.ip, 'proxy.ip', false);
    c.obj(s.proxy.labels, 'proxy.labels');
  }
  const endpointSets = checkEndpoints(c, s);
  const clusterNames = c.arr(s.clusters, 'clusters') ? c.uniqueNames(s.clusters, 'clusters') : new Set<string>();
  checkClusters(c, s, endpointSets);
  const tables = checkRoutes(c, s, clusterNames);
  checkListeners(c, s, tables, clusterNames);
  checkSecurity(c, s);
  if (c.obj(s.telemetry, 'telemetry')) {
    if (typeof s.telemetry.metrics !== 'boolean') c.fail('telemetry.metrics', 'must be a boolean');
    if (typeof s.telemetry.accessLog !== 'boolean') c.fail('telemetry.accessLog', 'must be a boolean');
    if (c.obj(s.telemetry.tracing, 'telemetry.tracing')) c.num(s.telemetry.tracing.samplingPercent, 'telemetry.tracing.samplingPercent', 0, 100, false);
  }
  return c.errors.length === 0 ? { ok: true, snapshot: value as unknown as ProxySnapshot } : { ok: false, errors: c.errors };
}

/** Parses JSON text and validates it; JSON syntax errors are reported at path `$`. */
export function parseSnapshot(text: string): SnapshotValidation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [{ path: '$', reason: `not valid JSON: ${(err as Error).message}` }] };
  }
  return validateSnapshot(value);
}
