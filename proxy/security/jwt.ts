/**
 * End-user authentication (RequestAuthentication), compiled once per snapshot from
 * `security.requestAuthentication`. Istio's semantics (Envoy's jwt_authn as istiod sets it up):
 * - a request without a token passes unauthenticated (no request principal), so only an
 *   AuthorizationPolicy on requestPrincipals / request.auth.* can refuse it;
 * - a token that is present must verify: signature against the issuer's keys, `iss`, `exp`
 *   and `nbf` (60 s of clock skew), and `aud` when audiences are listed; else 401;
 * - a token whose issuer no rule names is refused too;
 * - once verified: the request principal is `<iss>/<sub>`, the header that carried the token
 *   is removed unless forwardOriginalToken, the payload and claims are copied to headers.
 * Signatures are checked by `jose` (RS/PS/ES/EdDSA), loaded when a snapshot first has rules,
 * never by hand-written crypto. Verified tokens are remembered (at most 256, until their
 * `exp`), as Envoy's JWT cache does, so a client reusing its token pays one verification.
 */
import type { JwtRule, JwtLocation } from '../../common/snapshot.ts';
import type * as JoseModule from 'jose';

type Jose = typeof JoseModule;
let jose: Jose | undefined;
let loading: Promise<Jose> | undefined;
function loadJose(): Promise<Jose> {
  loading ??= import('jose').then((m) => (jose = m));
  return loading;
}

/** What a verified token says, for AuthorizationPolicy and `meshlet explain`. */
export interface JwtAuth {
  /** `<iss>/<sub>`. */
  principal: string;
  audiences: string[];
  /** `azp`. */
  presenter: string | undefined;
  claims: Record<string, unknown>;
  /** Claims whose string value is a space-separated list. */
  spaceDelimited: ReadonlySet<string>;
}

export type JwtFailureCode = 'MESHLET_SECURITY_JWT_MISSING' | 'MESHLET_SECURITY_JWT_INVALID' | 'MESHLET_SECURITY_JWT_EXPIRED' | 'MESHLET_SECURITY_JWT_AUDIENCE' | 'MESHLET_SECURITY_JWT_ISSUER' | 'MESHLET_SECURITY_JWT_NO_KEYS' | 'MESHLET_SECURITY_JWT_NO_KEY_MATCH';

export type JwtOutcome =
  /** No token anywhere the rules look: unauthenticated, not refused. */
  | { kind: 'none' }
  | { kind: 'ok'; auth: JwtAuth; rule: JwtRule; location: JwtLocation; payload: string }
  | { kind: 'fail'; code: JwtFailureCode; detail: string; rule?: JwtRule };

/** How the JWT step reads a request (a RequestContext, or `meshlet explain`'s description). */
export interface JwtSource {
  header(name: string): string | undefined;
  queryParam(name: string): string | undefined;
}

export interface CompiledJwt {
  readonly rules: readonly JwtRule[];
  /**
   * The outcome without waiting, when it is known already: no token, or a token verified
   * before and not expired (most requests: clients reuse their token). Undefined otherwise;
   * then call `authenticate`.
   */
  known(src: JwtSource): JwtOutcome | undefined;
  /** Finds and verifies the token; never rejects. */
  authenticate(src: JwtSource): Promise<JwtOutcome>;
}

/** `scope` and `permission` are space-delimited in every Istio version; rules may add more. */
const ALWAYS_SPACE_DELIMITED = ['scope', 'permission'];
const CLOCK_SKEW_S = 60;
const CACHE_MAX = 256;

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The token at one location, or undefined. */
export function tokenAt(src: JwtSource, l: JwtLocation): string | undefined {
  if (l.header !== undefined) {
    const v = src.header(l.header.name);
    if (v === undefined) return undefined;
    const p = l.header.prefix;
    if (p === '') return v.trim() || undefined;
    // Envoy compares the prefix as written; "Bearer" is also accepted in any case (RFC 6750).
    if (v.length <= p.length || v.slice(0, p.length).toLowerCase() !== p.toLowerCase()) return undefined;
    return v.slice(p.length).trim() || undefined;
  }
  if (l.param !== undefined) return src.queryParam(l.param);
  if (l.cookie !== undefined) return cookie(src.header('cookie'), l.cookie);
  return undefined;
}

const sameLocation = (a: JwtLocation, b: JwtLocation): boolean => a.header?.name === b.header?.name && a.header?.prefix === b.header?.prefix && a.param === b.param && a.cookie === b.cookie;

/** The token's `iss` without verifying anything (to pick the rule), or undefined when not a JWT. */
function unverifiedIssuer(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (typeof payload !== 'object' || payload === null) return undefined;
    const iss = (payload as { iss?: unknown }).iss;
    return typeof iss === 'string' ? iss : '';
  } catch {
    return undefined;
  }
}

function failureOf(err: unknown, j: Jose): { code: JwtFailureCode; detail: string } {
  const e = err as Error & { code?: string; claim?: string };
  if (err instanceof j.errors.JWTExpired) return { code: 'MESHLET_SECURITY_JWT_EXPIRED', detail: e.message };
  if (err instanceof j.errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return { code: 'MESHLET_SECURITY_JWT_AUDIENCE', detail: e.message };
    if (e.claim === 'iss') return { code: 'MESHLET_SECURITY_JWT_ISSUER', detail: e.message };
    if (e.claim === 'nbf') return { code: 'MESHLET_SECURITY_JWT_INVALID', detail: `Jwt not yet valid: ${e.message}` };
    return { code: 'MESHLET_SECURITY_JWT_INVALID', detail: e.message };
  }
  if (err instanceof j.errors.JWKSNoMatchingKey || err instanceof j.errors.JWKSMultipleMatchingKeys) return { code: 'MESHLET_SECURITY_JWT_NO_KEY_MATCH', detail: e.message };
  return { code: 'MESHLET_SECURITY_JWT_INVALID', detail: e.message ?? String(err) };
}

function audiencesOf(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

interface CompiledRule {
  rule: JwtRule;
  keys: ((...args: never[]) => unknown) | undefined;
  spaceDelimited: ReadonlySet<string>;
}

interface Cached {
  outcome: Extract<JwtOutcome, { kind: 'ok' }>;
  /** exp in ms, or Infinity. */
  expMs: number;
}

export interface JwtOptions {
  /** Milliseconds since the epoch (tests inject a clock). */
  now?: () => number;
}

/** Compiles the rules once; undefined when there are none (the request path skips the step). */
export function compileJwt(rules: readonly JwtRule[] | undefined, opts: JwtOptions = {}): CompiledJwt | undefined {
  if (rules === undefined || rules.length === 0) return undefined;
  const now = opts.now ?? Date.now;
  // Locations in first-seen order across rules: a token is looked for where any rule looks.
  const locations: JwtLocation[] = [];
  for (const r of rules) for (const l of r.locations) if (!locations.some((x) => sameLocation(x, l))) locations.push(l);
  let compiled: CompiledRule[] | undefined;
  const compile = (j: Jose): CompiledRule[] =>
    (compiled ??= rules.map((rule) => ({
      rule,
      keys: rule.jwks === undefined ? undefined : (j.createLocalJWKSet(rule.jwks as never) as never),
      spaceDelimited: new Set([...ALWAYS_SPACE_DELIMITED, ...rule.spaceDelimitedClaims]),
    })));
  void loadJose();
  const cache = new Map<string, Cached>();

  async function verify(token: string, location: JwtLocation): Promise<JwtOutcome> {
    const j = jose ?? (await loadJose());
    const all = compile(j);
    const iss = unverifiedIssuer(token);
    if (iss === undefined) return { kind: 'fail', code: 'MESHLET_SECURITY_JWT_INVALID', detail: 'Jwt is not in the form of Header.Payload.Signature with base64url-encoded JSON' };
    const candidates = all.filter((c) => (c.rule.issuer === '' || c.rule.issuer === iss) && c.rule.locations.some((l) => sameLocation(l, location)));
    if (candidates.length === 0) return { kind: 'fail', code: 'MESHLET_SECURITY_JWT_ISSUER', detail: `no jwtRule for issuer "${iss}" reads a token from there` };
    let first: Extract<JwtOutcome, { kind: 'fail' }> | undefined;
    for (const c of candidates) {
      if (c.keys === undefined) {
        first ??= { kind: 'fail', code: 'MESHLET_SECURITY_JWT_NO_KEYS', detail: c.rule.jwksError ?? 'no keys', rule: c.rule };
        continue;
      }
      try {
        const verifyOpts: Parameters<Jose['jwtVerify']>[2] = { currentDate: new Date(now()), clockTolerance: CLOCK_SKEW_S };
        if (c.rule.issuer !== '') verifyOpts.issuer = c.rule.issuer;
        if (c.rule.audiences.length > 0) verifyOpts.audience = c.rule.audiences;
        const { payload } = await j.jwtVerify(token, c.keys as never, verifyOpts);
        const auth: JwtAuth = {
          principal: `${payload.iss ?? ''}/${payload.sub ?? ''}`,
          audiences: audiencesOf(payload.aud),
          presenter: typeof payload.azp === 'string' ? payload.azp : undefined,
          claims: payload as Record<string, unknown>,
          spaceDelimited: c.spaceDelimited,
        };
        return { kind: 'ok', auth, rule: c.rule, location, payload: token.split('.')[1]! };
      } catch (err) {
        first ??= { kind: 'fail', ...failureOf(err, j), rule: c.rule };
      }
    }
    return first!;
  }

  // presence REQUIRED on any rule: a request with no token is refused rather than unauthenticated.
  const required = rules.find((r) => r.required === true);
  const NONE: JwtOutcome = required === undefined ? { kind: 'none' } : { kind: 'fail', code: 'MESHLET_SECURITY_JWT_MISSING', detail: 'no token in any location the rules read', rule: required };
  const find = (src: JwtSource): { token: string; location: JwtLocation } | undefined => {
    for (const l of locations) {
      const token = tokenAt(src, l);
      if (token !== undefined) return { token, location: l };
    }
    return undefined;
  };
  const cached = (token: string, location: JwtLocation): JwtOutcome | undefined => {
    const hit = cache.get(token);
    if (hit === undefined || !sameLocation(hit.outcome.location, location)) return undefined;
    if (now() < hit.expMs + CLOCK_SKEW_S * 1000) return hit.outcome;
    cache.delete(token);
    return undefined;
  };

  return {
    rules,
    known(src) {
      const t = find(src);
      return t === undefined ? NONE : cached(t.token, t.location);
    },
    async authenticate(src) {
      const t = find(src);
      if (t === undefined) return NONE;
      const { token, location } = t;
      const key = token;
      const hit = cached(token, location);
      if (hit !== undefined) return hit;
      const out = await verify(token, location);
      if (out.kind === 'ok') {
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
        const exp = out.auth.claims.exp;
        cache.set(key, { outcome: out, expMs: typeof exp === 'number' ? exp * 1000 : Infinity });
      }
      return out;
    },
  };
}

/** A claim by path (`["a", "b"]` is `a.b`), or undefined. */
export function claimAt(claims: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = claims;
  for (const p of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/**
 * The string values a claim matches against in AuthorizationPolicy: a string (split on spaces
 * for space-delimited claims), or the strings of a list; other types match nothing.
 */
export function claimValues(auth: JwtAuth, path: readonly string[]): string[] {
  const v = claimAt(auth.claims, path);
  if (typeof v === 'string') return path.length === 1 && auth.spaceDelimited.has(path[0]!) ? v.split(' ').filter((s) => s !== '') : [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** A claim's header value for outputClaimToHeaders: strings, numbers and booleans (Envoy's claim_to_headers). */
export function claimHeaderValue(claims: Record<string, unknown>, claim: string): string | undefined {
  const v = claimAt(claims, claim.split('.'));
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}
