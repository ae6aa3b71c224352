/**
 * Certificate rotation under load: with a short --workload-cert-ttl, load runs until both
 * proxies hold a new certificate (serial changed), bounded by `maxMs`.
 */
import type { ChaosMesh } from './mesh.ts';
import { startLoad } from './load.ts';
import { until } from './procs.ts';
import type { ScenarioBody } from './scenario.ts';

/** Serial of the workload certificate a proxy serves now (its admin /certs view). */
async function serial(addr: string): Promise<string> {
  const body = (await (await fetch(`http://${addr}:15000/certs`, { signal: AbortSignal.timeout(3000) })).json()) as { certificates: { name: string; serial: string }[] };
  const s = body.certificates.find((c) => c.name === 'default')?.serial;
  if (s === undefined) throw new Error(`${addr}: no workload certificate`);
  return s;
}

export function rotation(o: { rate: number; maxMs: number }): ScenarioBody {
  return async (m: ChaosMesh) => {
    const addrs = [m.opts.client, m.opts.server];
    const first = await Promise.all(addrs.map(serial));
    const load = startLoad(m, o.rate, Math.ceil((o.rate * o.maxMs) / 1000));
    const t0 = Date.now();
    const rotated = await until(async () => (await Promise.all(addrs.map(serial))).every((s, i) => s !== first[i]), o.maxMs);
    const ms = Date.now() - t0;
    load.stop();
    const csrs = Number(/^citadel_server_csr_count (\d+)/m.exec(await m.metrics())?.[1] ?? NaN);
    return { load: await load.done, extra: { rotated_both: rotated ? 1 : 0, rotation_wait_ms: ms, operator_csrs_since_start: csrs } };
  };
}
