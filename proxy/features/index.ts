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

export function builtinFeatures(pools: PoolRegistry, random: Random): Feature[] {
  const r = resilienceFeatures({ random });
  return [telemetryFeature(proxyTelemetry), corsFeature, r.fault, rewriteFeature, headerOpsFeature, mirrorFeature(pools, random), r.timeout, r.retry];
}
