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
import { authzFeature, type AuthzFeatureOptions } from '../security/authz-feature.ts';
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
 * verified peer (any client-sent value removed), then AuthorizationPolicies decide.
 */
export function inboundSecurityFeature(authz: CompiledAuthz, opts: AuthzFeatureOptions): Feature {
  const az = authzFeature(authz, opts);
  return (next, route) => {
    const inner = az(next, route);
    return (ctx) => {
      // peerInfo is cached per connection: one WeakMap lookup per request.
      if (ctx.direction === 'inbound') applyXfcc(ctx.headers, peerInfo(ctx.req.socket as never, opts.localIdentity).xfcc);
      inner(ctx);
    };
  };
}
