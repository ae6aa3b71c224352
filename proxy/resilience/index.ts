/** The resilience features, for registration in proxy/features/index.ts. */
import type { Random } from '../../common/clock.ts';
import type { Feature } from '../chain/types.ts';
import { RETRY_BUFFER_LIMIT } from './body-tape.ts';
import type { Clock } from '../../common/clock.ts';
import { realClock } from './clock.ts';
import { faultFeature } from './fault.ts';
import { retryFeature } from './retry.ts';
import { timeoutFeature } from './timeout.ts';

export interface ResilienceEnv {
  random: Random;
  clock?: Clock;
}

/** Fault goes early in the chain (after cors); timeout then retry right before the terminal. */
export function resilienceFeatures(env: ResilienceEnv): { fault: Feature; timeout: Feature; retry: Feature } {
  const clock = env.clock ?? realClock;
  return { fault: faultFeature(env.random, clock), timeout: timeoutFeature(clock), retry: retryFeature({ clock, random: env.random, bufferLimit: RETRY_BUFFER_LIMIT }) };
}
