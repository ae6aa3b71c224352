/**
 * The built-in features in chain order. Issue 8 and later slot theirs in here:
 * metrics → tracing → authz → cors → fault → rewrite → headers → mirror → timeout → retry → terminal.
 */
import type { Random } from '../balancer/types.ts';
import type { Feature } from '../chain/types.ts';
import type { PoolRegistry } from '../upstream/pools.ts';
import { corsFeature } from './cors.ts';
import { headerOpsFeature } from './header-ops.ts';
import { mirrorFeature } from './mirror.ts';
import { rewriteFeature } from './rewrite.ts';
import { proxyTelemetry, telemetryFeature } from '../telemetry/index.ts';
import { resilienceFeatures } from '../resilience/index.ts';
import { httpAuthzRequest, RBAC_CODE, RBAC_FLAG, type AuthzFeatureOptions } from '../security/authz-feature.ts';
import type { CompiledAuthz } from '../security/authz.ts';
import { peerInfo } from '../security/peer.ts';
import { applyXfcc } from '../security/xfcc.ts';

/** `security`: the per-snapshot inbound security step (XFCC + authz), after telemetry. */
export function builtinFeatures(pools: PoolRegistry, random: Random, security?: Feature): Feature[] {
  const r = resilienceFeatures({ random });
  const sec = security === undefined ? [] : [security];
  return [telemetryFeature(proxyTelemetry), ...sec, corsFeature, r.fault, rewriteFeature, headerOpsFeature, mirrorFeature(pools, random), r.timeout, r.retry];
}

/**
 * Inbound security of a mTLS-capable proxy: the app sees `x-forwarded-client-cert` naming the
 * verified peer (any client-sent value removed), then AuthorizationPolicies decide (as
 * `authzFeature`, but a denial goes through `ctx.sink` so metrics, traces and the access
 * log see the 403 RBAC).
 */
export function inboundSecurityFeature(authz: CompiledAuthz, opts: AuthzFeatureOptions): Feature {
  const id = opts.localIdentity;
  return (next) => (ctx) => {
    if (ctx.direction !== 'inbound') {
      next(ctx);
      return;
    }
    // peerInfo is cached per connection: one WeakMap lookup per request.
    applyXfcc(ctx.headers, peerInfo(ctx.req.socket as never, id).xfcc);
    if (authz.empty) {
      next(ctx);
      return;
    }
    const r = httpAuthzRequest(ctx, id);
    const d = authz.evaluate(r);
    if (!d.allowed || d.audited.length > 0) opts.onDecision?.(d, r);
    if (d.allowed) next(ctx);
    else ctx.sink.fail({ flag: RBAC_FLAG, code: RBAC_CODE, status: 403 }, false);
  };
}
