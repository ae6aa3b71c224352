/**
 * AuthorizationPolicy evaluation (pure), compiled once per snapshot from
 * `security.authorization`. Istio's semantics:
 * - any matching DENY policy denies; then, if any ALLOW policy applies, the request is
 *   denied unless one matches; with no ALLOW policy it is allowed. AUDIT only marks.
 * - a policy matches if any rule does; a rule needs from (any source) AND to (any operation)
 *   AND when (every condition); an absent/empty list matches anything; a policy with no
 *   rules matches nothing (ALLOW with no rules = allow-nothing).
 * - within a source/operation every field set must match; `not*` values must not match.
 * - TCP traffic: an ALLOW rule using HTTP-only fields (methods, paths, hosts, request
 *   principals, request.headers/request.auth conditions) never matches; in a DENY rule those
 *   fields are dropped, so it denies more — both as documented by Istio.
 * - the request principal and `request.auth.*` come from a JWT verified by the
 *   RequestAuthentication step (jwt.ts) before authz; without one (no token, or no
 *   RequestAuthentication) they are absent, so their values never match and their `not*`
 *   forms always do, as in Istio. Multi-valued attributes (audiences, list claims) match when
 *   any element does.
 */
import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzRule, AuthzSource, Provenance } from '../../common/snapshot.ts';
import { principalOf } from '../../common/spiffe.ts';
import { anyOf, ipSet, namespaceOfPrincipal, trustDomainOfPrincipal, type StrMatcher } from './authz-match.ts';
import { claimValues, type JwtAuth } from './jwt.ts';

/** What evaluation needs to know about a request (HTTP) or a connection (TCP). */
export interface AuthzRequest {
  http: boolean;
  /** Address of the direct peer. */
  sourceIp: string;
  /** Original client address (X-Forwarded-For with trusted proxies); defaults to sourceIp. */
  remoteIp?: string;
  /** Peer SPIFFE ID from the mTLS certificate; undefined for plaintext. */
  principal?: string;
  destinationIp: string;
  destinationPort: number;
  sni?: string;
  method?: string;
  /** Path without the query string. */
  path?: string;
  host?: string;
  /** Header value by lower-case name (repeated headers joined with `,`). */
  header?: (name: string) => string | undefined;
  /** The verified JWT of the request, when it carried one. */
  auth?: JwtAuth;
}

export interface AuthzDecision {
  allowed: boolean;
  /** Why: a DENY matched, no ALLOW matched while some exist, an ALLOW matched, or no ALLOW policy. */
  reason: 'denied' | 'no-allow-match' | 'allowed' | 'no-allow-policies';
  /** The deciding policy (`<ns>/<name>`) and its provenance, for metrics and access logs. */
  policy?: string;
  provenance?: Provenance;
  /** AUDIT policies that matched. */
  audited: string[];
}

export interface AuthzWarning {
  policy: string;
  code: 'MESHLET_SECURITY_UNSUPPORTED';
  detail: string;
}

type Pred = (r: AuthzRequest) => boolean;
const always: Pred = () => true;

interface Ctx {
  /** `http`; `tcp-allow`: HTTP-only fields void the rule; `tcp-drop`: they are ignored (DENY/AUDIT). */
  mode: 'http' | 'tcp-allow' | 'tcp-drop';
  warn: (detail: string) => void;
}

const HTTP_ONLY = Symbol('http-only');
type Part = Pred | typeof HTTP_ONLY;

function field(values: readonly string[] | undefined, notValues: readonly string[] | undefined, get: (r: AuthzRequest) => string | undefined, mk: (vs: readonly string[]) => StrMatcher): Pred[] {
  const out: Pred[] = [];
  if (values !== undefined && values.length > 0) {
    const m = mk(values);
    out.push((r) => m(get(r)));
  }
  if (notValues !== undefined && notValues.length > 0) {
    const m = mk(notValues);
    out.push((r) => !m(get(r)));
  }
  return out;
}

/** Like field(), for attributes with several values: `values` match if any value does, `notValues` if none does. */
function multiField(values: readonly string[] | undefined, notValues: readonly string[] | undefined, get: (r: AuthzRequest) => readonly string[]): Pred[] {
  const out: Pred[] = [];
  if (values !== undefined && values.length > 0) {
    const m = anyOf(values);
    out.push((r) => get(r).some((v) => m(v)));
  }
  if (notValues !== undefined && notValues.length > 0) {
    const m = anyOf(notValues);
    out.push((r) => !get(r).some((v) => m(v)));
  }
  return out;
}

const NONE: readonly string[] = [];
/** `request.auth.claims[a][b]` → `["a", "b"]`; undefined when the key is not of that form. */
export function claimPath(key: string): string[] | undefined {
  const m = /^request\.auth\.claims((?:\[[^[\]]+\])+)$/.exec(key);
  return m === null ? undefined : [...(m[1] as string).matchAll(/\[([^[\]]+)\]/g)].map((x) => x[1] as string);
}

// `ns/sa` matches any principal ending in `/ns/<ns>/sa/<sa>` (any trust domain), as Istio matches source.serviceAccount.
const serviceAccountPrincipal = (sa: string): string => {
  const i = sa.indexOf('/');
  return i < 0 ? `*/sa/${sa}` : `*/ns/${sa.slice(0, i)}/sa/${sa.slice(i + 1)}`;
};

const principal = (r: AuthzRequest): string | undefined => (r.principal === undefined ? undefined : principalOf(r.principal));
const headerValue = (r: AuthzRequest, name: string): string | undefined => r.header?.(name);
const hostNoPort = (h: string | undefined): string | undefined => (h === undefined ? undefined : h.replace(/:\d+$/, ''));
const strs = (vs: readonly string[]): StrMatcher => anyOf(vs);

function and(parts: Part[], _ctx: Ctx): Part {
  const preds: Pred[] = [];
  for (const p of parts) {
    if (p === HTTP_ONLY) return HTTP_ONLY;
    preds.push(p);
  }
  return preds.length === 0 ? always : (r) => preds.every((p) => p(r));
}

function httpOnly(preds: Pred[], ctx: Ctx): Part[] {
  if (preds.length === 0 || ctx.mode === 'http') return preds;
  return ctx.mode === 'tcp-allow' ? [HTTP_ONLY] : [];
}

function compileSource(s: AuthzSource, ctx: Ctx): Part {
  const parts: Part[] = [
    ...field(s.principals, s.notPrincipals, principal, strs),
    ...field(s.namespaces, s.notNamespaces, (r) => namespaceOfPrincipal(principal(r)), strs),
    ...field(s.ipBlocks, s.notIpBlocks, (r) => r.sourceIp, ipSet),
    ...field(s.remoteIpBlocks, s.notRemoteIpBlocks, (r) => r.remoteIp ?? r.sourceIp, ipSet),
    ...field(s.trustDomains, s.notTrustDomains, (r) => trustDomainOfPrincipal(principal(r)), strs),
    ...httpOnly(field(s.requestPrincipals, s.notRequestPrincipals, (r) => r.auth?.principal, strs), ctx),
  ];
  return and(parts, ctx);
}

function compileOperation(o: AuthzOperation, ctx: Ctx): Part {
  const parts: Part[] = [
    ...field(o.ports, o.notPorts, (r) => String(r.destinationPort), strs),
    ...httpOnly(field(o.hosts, o.notHosts, (r) => r.host, (vs) => {
      const m = anyOf(vs, true);
      return (h) => m(h) || m(hostNoPort(h));
    }), ctx),
    ...httpOnly(field(o.methods, o.notMethods, (r) => r.method, strs), ctx),
    ...httpOnly(field(o.paths, o.notPaths, (r) => r.path, strs), ctx),
  ];
  return and(parts, ctx);
}

function compileCondition(c: AuthzCondition, ctx: Ctx): Part {
  const v = c.values;
  const nv = c.notValues;
  const header = /^request\.headers\[(.+)\]$/.exec(c.key);
  if (header !== null) {
    const name = (header[1] as string).toLowerCase();
    return and(httpOnly(field(v, nv, (r) => headerValue(r, name), strs), ctx), ctx);
  }
  switch (c.key) {
    case 'source.ip': return and(field(v, nv, (r) => r.sourceIp, ipSet), ctx);
    case 'remote.ip': return and(field(v, nv, (r) => r.remoteIp ?? r.sourceIp, ipSet), ctx);
    case 'source.namespace': return and(field(v, nv, (r) => namespaceOfPrincipal(principal(r)), strs), ctx);
    case 'source.principal': return and(field(v, nv, principal, strs), ctx);
    case 'destination.ip': return and(field(v, nv, (r) => r.destinationIp, ipSet), ctx);
    case 'destination.port': return and(field(v, nv, (r) => String(r.destinationPort), strs), ctx);
    case 'connection.sni': return and(field(v, nv, (r) => r.sni, strs), ctx);
    case 'source.serviceAccount': return and(field(v, nv, principal, (vs) => anyOf(vs.map((sa) => serviceAccountPrincipal(sa)))), ctx);
    case 'source.trustDomain': return and(field(v, nv, (r) => trustDomainOfPrincipal(principal(r)), strs), ctx);
    case 'request.auth.principal': return and(httpOnly(field(v, nv, (r) => r.auth?.principal, strs), ctx), ctx);
    case 'request.auth.presenter': return and(httpOnly(field(v, nv, (r) => r.auth?.presenter, strs), ctx), ctx);
    case 'request.auth.audiences': return and(httpOnly(multiField(v, nv, (r) => r.auth?.audiences ?? NONE), ctx), ctx);
  }
  const claim = claimPath(c.key);
  if (claim !== undefined) return and(httpOnly(multiField(v, nv, (r) => (r.auth === undefined ? NONE : claimValues(r.auth, claim))), ctx), ctx);
  ctx.warn(`condition key ${c.key}`);
  // Unsupported keys (experimental.*, ...): no value is ever present.
  if (c.key.startsWith('request.')) return and(httpOnly(field(v, nv, () => undefined, strs), ctx), ctx);
  return and(field(v, nv, () => undefined, strs), ctx);
}

function anyPart(list: readonly unknown[], parts: Part[]): Part {
  if (list.length === 0) return always;
  // ALLOW on TCP: a rule using any HTTP-only field is ignored as a whole.
  if (parts.includes(HTTP_ONLY)) return HTTP_ONLY;
  const preds = parts as Pred[];
  return (r) => preds.some((p) => p(r));
}

/** One rule for one traffic kind; undefined when it can never match. */
function compileRule(rule: AuthzRule, ctx: Ctx): Pred | undefined {
  const from = anyPart(rule.from, rule.from.map((s) => compileSource(s, ctx)));
  const to = anyPart(rule.to, rule.to.map((o) => compileOperation(o, ctx)));
  const parts = [from, to, ...rule.when.map((c) => compileCondition(c, ctx))];
  if (parts.includes(HTTP_ONLY)) return undefined;
  const preds = parts as Pred[];
  return (r) => preds.every((p) => p(r));
}

interface CompiledPolicy {
  name: string;
  action: AuthzPolicy['action'];
  provenance: Provenance;
  http: Pred[];
  tcp: Pred[];
}

export interface CompiledAuthz {
  evaluate(r: AuthzRequest): AuthzDecision;
  warnings: AuthzWarning[];
  /** True when no policy applies (callers can skip evaluation). */
  empty: boolean;
}

export function compileAuthz(policies: readonly AuthzPolicy[]): CompiledAuthz {
  const warnings: AuthzWarning[] = [];
  const compiled: CompiledPolicy[] = policies.map((p) => {
    const seen = new Set<string>();
    const warn = (detail: string): void => {
      if (seen.has(detail)) return;
      seen.add(detail);
      warnings.push({ policy: p.name, code: 'MESHLET_SECURITY_UNSUPPORTED', detail });
    };
    const build = (mode: Ctx['mode']): Pred[] => p.rules.map((r) => compileRule(r, { mode, warn })).filter((x): x is Pred => x !== undefined);
    return { name: p.name, action: p.action, provenance: p.provenance, http: build('http'), tcp: build(p.action === 'ALLOW' ? 'tcp-allow' : 'tcp-drop') };
  });
  const deny = compiled.filter((p) => p.action === 'DENY');
  const allow = compiled.filter((p) => p.action === 'ALLOW');
  const audit = compiled.filter((p) => p.action === 'AUDIT');
  const matches = (p: CompiledPolicy, r: AuthzRequest): boolean => (r.http ? p.http : p.tcp).some((rule) => rule(r));

  return {
    warnings,
    empty: compiled.length === 0,
    evaluate(r) {
      const audited = audit.filter((p) => matches(p, r)).map((p) => p.name);
      for (const p of deny) if (matches(p, r)) return { allowed: false, reason: 'denied', policy: p.name, provenance: p.provenance, audited };
      if (allow.length === 0) return { allowed: true, reason: 'no-allow-policies', audited };
      for (const p of allow) if (matches(p, r)) return { allowed: true, reason: 'allowed', policy: p.name, provenance: p.provenance, audited };
      return { allowed: false, reason: 'no-allow-match', audited };
    },
  };
}
