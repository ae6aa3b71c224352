/**
 * The built-in features and their order in every route's chain: `CHAIN_ORDER` is the one
 * statement of it (proxy/chain/README.md shows it, and a test keeps the two equal).
 */
import type { Random } from '../../common/clock.ts';
import type { Feature, Handler } from '../chain/types.ts';
import type { PoolRegistry } from '../upstream/pools.ts';
import { withoutHeader } from '../http/headers.ts';
import { corsFeature } from './cors.ts';
import { headerOpsFeature } from './header-ops.ts';
import { mirrorFeature } from './mirror.ts';
import { rewriteFeature } from './rewrite.ts';
import { proxyTelemetry, telemetryFeature } from '../telemetry/index.ts';
import { resilienceFeatures } from '../resilience/index.ts';
import { httpAuthzRequest, RBAC_CODE, RBAC_FLAG, type AuthzFeatureOptions } from '../security/authz-feature.ts';
import type { CompiledAuthz } from '../security/authz.ts';
import type { CompiledJwt, JwtOutcome } from '../security/jwt.ts';
import { jwtApplied, jwtFailure } from '../security/jwt-feature.ts';
import { peerInfo } from '../security/peer.ts';
import { applyXfcc, XFCC } from '../security/xfcc.ts';

/** Outermost first; the terminal (forward, redirect or direct response) comes after the last. */
export const CHAIN_ORDER = ['telemetry', 'security', 'cors', 'fault', 'rewrite', 'headers', 'mirror', 'timeout', 'retry'] as const;

/** `security`: the per-snapshot inbound security step (XFCC + authz), when there is one. */
export function builtinFeatures(pools: PoolRegistry, random: Random, security?: Feature): Feature[] {
  const r = resilienceFeatures({ random });
  const byName: Record<(typeof CHAIN_ORDER)[number], Feature | undefined> = {
    telemetry: telemetryFeature(proxyTelemetry),
    security,
    cors: corsFeature,
    fault: r.fault,
    rewrite: rewriteFeature,
    headers: headerOpsFeature,
    mirror: mirrorFeature(pools, random),
    timeout: r.timeout,
    retry: r.retry,
  };
  return CHAIN_ORDER.map((name) => byName[name]).filter((f): f is Feature => f !== undefined);
}

export interface InboundSecurityOptions extends AuthzFeatureOptions {
  /** Whether the proxy has a workload certificate (so a peer can be verified and named in XFCC). */
  mtls: boolean;
  /** The RequestAuthentication rules of the snapshot, compiled; undefined when none select the workload (no JWT step at all). */
  jwt?: CompiledJwt | undefined;
}

/**
 * Inbound security of every proxy: client-sent `x-forwarded-client-cert` removed, and with a
 * certificate set to the verified peer; then AuthorizationPolicies decide (as `authzFeature`,
 * but a denial goes through `ctx.sink` so metrics, traces and the access log see the 403
 * RBAC). Without a certificate every caller is plaintext (empty principal), as in Istio.
 * With RequestAuthentication rules a JWT step runs first: a token that fails verification
 * is answered 401, a verified one gives authz its principal and claims (security/jwt.ts).
 * Which variant runs is decided here, once per route, not per request.
 */
export function inboundSecurityFeature(authz: CompiledAuthz, opts: InboundSecurityOptions): Feature {
  const id = opts.localIdentity;
  const jwt = opts.jwt;
  return (next) => {
    const authorize = (ctx: Parameters<Handler>[0], outcome: JwtOutcome | undefined): void => {
      const r = httpAuthzRequest(ctx, id);
      if (outcome?.kind === 'ok') r.auth = outcome.auth;
      const d = authz.evaluate(r);
      if (!d.allowed || d.audited.length > 0) opts.onDecision?.(d, r);
      if (d.allowed) next(ctx);
      else ctx.sink.fail({ flag: RBAC_FLAG, code: RBAC_CODE, status: 403 }, false);
    };
    const afterJwt = (ctx: Parameters<Handler>[0], outcome: JwtOutcome): void => {
      if (outcome.kind === 'fail') return ctx.sink.fail(jwtFailure(ctx, outcome), false);
      if (outcome.kind === 'ok') jwtApplied(ctx, outcome);
      if (authz.empty) next(ctx);
      else authorize(ctx, outcome);
    };
    const decide: Handler = jwt !== undefined
      ? (ctx) => {
          // A reused, already verified token (or none) is decided now; only a new token waits for jose.
          const known = jwt.known(ctx.attrs);
          if (known !== undefined) afterJwt(ctx, known);
          else void jwt.authenticate(ctx.attrs).then((outcome) => afterJwt(ctx, outcome));
        }
      : authz.empty
        ? next
        : (ctx) => authorize(ctx, undefined);
    if (!opts.mtls) {
      return (ctx) => {
        if (ctx.direction !== 'inbound') return next(ctx);
        if (ctx.headers[XFCC] !== undefined) ctx.headers = withoutHeader(ctx.headers, XFCC);
        decide(ctx);
      };
    }
    return (ctx) => {
      if (ctx.direction !== 'inbound') return next(ctx);
      // peerInfo is cached per connection: one WeakMap lookup per request.
      ctx.headers = applyXfcc(ctx.headers, peerInfo(ctx.req.socket as never, id).xfcc);
      decide(ctx);
    };
  };
}
