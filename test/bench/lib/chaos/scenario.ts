/**
 * What every scenario reports, and the wrapper that measures it: the proxies' RSS and
 * descriptors before and after (descriptors polled, with a bound, until back near the
 * baseline), requests that policy must refuse but the app received, and whether every
 * process is still alive and answering.
 */
import { request } from 'undici';
import { procFigures, SERVICE, type ChaosMesh, type ProcFigures } from './mesh.ts';
import { warmUp, type LoadFigures } from './load.ts';
import { fdCount, until } from './procs.ts';

/** Descriptors a proxy may hold above its baseline after an attack (pools, timers, a log fd). */
export const FD_SLACK = 8;

export interface ScenarioResult extends LoadFigures {
  name: string;
  /** Requests to `/deny` (or POSTs) the app logged during the scenario: must be 0. */
  deniedReachedApp: number;
  before: Record<string, ProcFigures>;
  after: Record<string, ProcFigures>;
  /** Every proxy's descriptors back within FD_SLACK of its baseline (polled, bounded). */
  fdsBack: boolean;
  /** Operator, proxies and app alive, and a GET through the mesh answered 200. */
  alive: boolean;
  /** Scenario-specific figures (rotations, connections closed by the proxy, …). */
  extra: Record<string, number>;
}

export type ScenarioBody = (m: ChaosMesh) => Promise<{ load?: LoadFigures; extra?: Record<string, number> }>;

/** One GET through both sidecars: the mesh still serves. */
export async function answers(m: ChaosMesh): Promise<boolean> {
  try {
    const r = await request(`http://${m.outbound.host}:${m.outbound.port}/ok`, { headers: { host: SERVICE }, headersTimeout: 10_000, bodyTimeout: 10_000 });
    await r.body.dump();
    return r.statusCode === 200;
  } catch {
    return false;
  }
}

/**
 * Runs one scenario and measures it. `warmRate`: a scenario with load first re-opens the
 * upstream keep-alive pools at that rate (the proxies reap idle ones between scenarios), so
 * its descriptor baseline already holds them and the comparison counts only leaks.
 */
export async function runScenario(m: ChaosMesh, name: string, body: ScenarioBody, opts: { fdWaitMs?: number; warmRate?: number } = {}): Promise<ScenarioResult> {
  const leaked0 = m.leaked();
  if (opts.warmRate !== undefined) await warmUp(m, opts.warmRate);
  const before = procFigures(m);
  const out = await body(m);
  const fdsBack = await until(() => m.proxies().every(({ name: n, proc }) => fdCount(proc.pid) <= before[n]!.fds + FD_SLACK), opts.fdWaitMs ?? 30_000);
  // Sampled before the liveness request below opens connections of its own.
  const after = procFigures(m);
  const alive = [m.op, m.client, m.server, m.app].every((p) => p.alive()) && (await until(() => answers(m), 10_000));
  const load = out.load ?? { sent: 0, failed: 0, failedByStatus: {}, failedByFlag: {} };
  return { name, ...load, deniedReachedApp: m.leaked() - leaked0, before, after, fdsBack, alive, extra: out.extra ?? {} };
}
