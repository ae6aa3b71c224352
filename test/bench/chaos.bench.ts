/**
 * Stage "chaos": a fault campaign against real, separate processes — `meshlet operator
 * --local`, a client and a server sidecar (STRICT mTLS, DENY on /deny, ALLOW GET from the
 * client only) and an app that logs every request (lib/chaos/). Scenarios, in order:
 * connect-and-close probes, slowloris, bad config under load, operator kill/restart under
 * load, certificate rotation under load, a short soak, HTTP/2 rapid reset. Each reports
 * sent, failed (by status and x-meshlet-flags), denied requests that reached the app, and
 * each proxy's RSS and descriptors before/after. Loopback only (127.0.90.x), bounded.
 */
import type { BenchResult } from './types.ts';
import { badConfig } from './lib/chaos/bad-config.ts';
import { connectClose } from './lib/chaos/connect-close.ts';
import { flatten } from './lib/chaos/figures.ts';
import { warmUp } from './lib/chaos/load.ts';
import { startMesh } from './lib/chaos/mesh.ts';
import { operatorRestart } from './lib/chaos/operator-restart.ts';
import { rapidReset, rapidResetForwardedShare } from './lib/chaos/rapid-reset.ts';
import { rotation } from './lib/chaos/rotation.ts';
import { runScenario, type ScenarioResult } from './lib/chaos/scenario.ts';
import { slowloris } from './lib/chaos/slowloris.ts';
import { soak } from './lib/chaos/soak.ts';

const RATE = 150;
const SOAK_S = Number(process.env.BENCH_CHAOS_SOAK_S ?? 60);
const OPERATOR_DOWN_MS = 5000;
const CERT_TTL = '1m';

export async function bench(): Promise<BenchResult> {
  const m = await startMesh({ operator: '127.0.0.1', client: '127.0.90.2', server: '127.0.90.3', app: '127.0.90.4', certTtl: CERT_TTL });
  const results: ScenarioResult[] = [];
  try {
    await warmUp(m, RATE);
    results.push(await runScenario(m, 'connect-close', connectClose({ probes: 1000, parallel: 50 })));
    results.push(await runScenario(m, 'slowloris', slowloris({ conns: 20, maxS: 40 })));
    results.push(await runScenario(m, 'bad-config', badConfig({ rate: RATE, holdMs: 3000 }), { warmRate: RATE }));
    results.push(await runScenario(m, 'operator-restart', operatorRestart({ rate: RATE, count: RATE * 12, downMs: OPERATOR_DOWN_MS }), { warmRate: RATE }));
    results.push(await runScenario(m, 'rotation', rotation({ rate: RATE, maxMs: 90_000 }), { warmRate: RATE }));
    results.push(await runScenario(m, 'soak', soak({ rate: RATE, seconds: SOAK_S }), { warmRate: RATE }));
    results.push(await runScenario(m, 'rapid-reset', rapidReset({ streams: 20_000, batch: 100, rate: 50 }), { warmRate: RATE }));
  } finally {
    await m.stop();
  }
  const figures = Object.assign({}, ...results.map(flatten)) as Record<string, number>;
  const goals: Record<string, { max?: number; min?: number }> = {};
  for (const r of results) {
    const p = r.name.replaceAll('-', '_');
    goals[`${p}_denied_reached_app`] = { max: 0 };
    goals[`${p}_fds_back_to_baseline`] = { min: 1 };
    goals[`${p}_alive_and_answering`] = { min: 1 };
    if (r.sent > 0) goals[`${p}_failed`] = { max: 0 };
  }
  const reset = results.find((r) => r.name === 'rapid-reset')!;
  const soaked = results.find((r) => r.name === 'soak')!;
  return {
    name: 'chaos',
    figures,
    ratios: {
      rapid_reset_forwarded_share: rapidResetForwardedShare(reset),
      soak_rss_after_vs_before_server: soaked.after.server!.rss_mb / soaked.before.server!.rss_mb,
      soak_rss_after_vs_before_client: soaked.after.client!.rss_mb / soaked.before.client!.rss_mb,
      rapid_reset_rss_after_vs_before_client: reset.after.client!.rss_mb / reset.before.client!.rss_mb,
    },
    goals,
    notes: [
      `operator --local, client and server sidecars, app: separate processes (operator on 127.0.0.1, a free port; sidecars on 127.0.90.2-3); STRICT mTLS; --workload-cert-ttl ${CERT_TTL}`,
      `load ${RATE} req/s open-loop: 1/5 GET /deny (DENY → 403), 1/10 POST (ALLOW is GET-only → 403), rest GET /ok (200); failed = any other answer`,
      `operator SIGKILLed 1 s into the load, restarted after ${OPERATOR_DOWN_MS / 1000} s; rotation waits (≤ 90 s) until both proxies serve a new certificate; soak ${SOAK_S} s (BENCH_CHAOS_SOAK_S)`,
      'slowloris: 20 mTLS clients trickling headers and 20 raw ClientHellos, 1 byte/s, ≤ 40 s; connect-close: 1,000 probes, 50 at a time',
      'rapid reset: 20,000 h2c streams opened and cancelled at once (half /deny, half /reset) at the outbound listener; figures only, no goal until the HTTP/2 hardening lands',
      'a 3 s warm-up load before each scenario with load re-opens the upstream keep-alive pools before its baseline is taken (idle ones are reaped between scenarios)',
      'fds_back_to_baseline: every proxy back within 8 descriptors of its pre-scenario count, polled ≤ 30 s',
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await bench();
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
