/** Operator killed with SIGKILL under load and restarted after `downMs`: proxies keep serving on their last config and certificate. */
import { startLoad } from './load.ts';
import { sleep } from './procs.ts';
import type { ScenarioBody } from './scenario.ts';

export function operatorRestart(o: { rate: number; count: number; downMs: number }): ScenarioBody {
  return async (m) => {
    const load = startLoad(m, o.rate, o.count);
    await sleep(1000);
    m.op.child.kill('SIGKILL');
    await m.op.exited;
    await sleep(o.downMs);
    await m.startOperator();
    return { load: await load.done, extra: { operator_down_ms: o.downMs } };
  };
}
