/** Connect-and-close probes against the STRICT inbound (as a port scanner or health checker does). */
import { connect } from 'node:net';
import type { ScenarioBody } from './scenario.ts';

export function connectClose(o: { probes: number; parallel: number }): ScenarioBody {
  return async (m) => {
    let refused = 0;
    const one = (): Promise<void> =>
      new Promise((resolve) => {
        const s = connect(m.inbound, () => s.end());
        s.setTimeout(5000, () => s.destroy());
        s.on('error', () => refused++);
        s.on('close', () => resolve());
      });
    for (let i = 0; i < o.probes; i += o.parallel) await Promise.all(Array.from({ length: Math.min(o.parallel, o.probes - i) }, one));
    return { extra: { probes: o.probes, probe_errors: refused } };
  };
}
