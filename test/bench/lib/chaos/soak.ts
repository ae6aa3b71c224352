/** A short soak: steady load for `seconds` at `rate` req/s; RSS and descriptors compared before and after. */
import { runLoad } from './load.ts';
import type { ScenarioBody } from './scenario.ts';

export function soak(o: { rate: number; seconds: number }): ScenarioBody {
  return async (m) => ({ load: await runLoad(m, o.rate, o.rate * o.seconds), extra: { soak_s: o.seconds } });
}
