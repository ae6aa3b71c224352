/**
 * HTTP/2 rapid reset against the client sidecar's outbound h2c listener: a raw node:http2
 * client opens `streams` streams (half to `/deny`, half to `/reset`) and cancels each at once, in batches,
 * while normal load runs. Figures: streams reset, how many the app still received
 * (amplification), and the normal load's failures.
 */
import { connect, constants } from 'node:http2';
import { SERVICE } from './mesh.ts';
import { startLoad } from './load.ts';
import { sleep } from './procs.ts';
import type { ScenarioBody, ScenarioResult } from './scenario.ts';

export function rapidReset(o: { streams: number; batch: number; rate: number }): ScenarioBody {
  return async (m) => {
    const resetSeen = (): number => (m.app.output().match(/^GET \/reset$/gm) ?? []).length;
    const before = resetSeen();
    const load = startLoad(m, o.rate, o.rate * 120);
    let reset = 0;
    let sessionErrors = 0;
    let session = connect(`http://${m.outbound.host}:${m.outbound.port}`);
    session.on('error', () => sessionErrors++);
    for (let i = 0; i < o.streams; i += o.batch) {
      // A proxy that limits resets may close the session (GOAWAY): open another, as an attacker would.
      if (session.closed || session.destroyed) {
        session = connect(`http://${m.outbound.host}:${m.outbound.port}`);
        session.on('error', () => sessionErrors++);
      }
      for (let k = 0; k < o.batch && i + k < o.streams; k++) {
        try {
          const req = session.request({ ':path': (i + k) % 2 === 0 ? '/deny' : '/reset', ':authority': SERVICE });
          req.on('error', () => undefined);
          req.close(constants.NGHTTP2_CANCEL);
          reset++;
        } catch {
          sessionErrors++;
          break;
        }
      }
      await sleep(5);
    }
    session.close();
    await sleep(2000);
    load.stop();
    const loadFigures = await load.done;
    // Reset streams the proxy still started upstream (the load never asks for /reset).
    const forwarded = resetSeen() - before;
    return { load: loadFigures, extra: { streams_reset: reset, reset_forwarded_to_app: forwarded, h2_session_errors: sessionErrors } };
  };
}

/**
 * Share of reset streams the proxy still forwarded to the app (0 = none started upstream).
 * Recorded only for now: once the HTTP/2 hardening lands this is the figure to assert on
 * (e.g. `assert.ok(rapidResetForwardedShare(r) < 0.01)`).
 */
export function rapidResetForwardedShare(r: ScenarioResult): number {
  return (r.extra.reset_forwarded_to_app ?? 0) / Math.max(1, r.extra.streams_reset ?? 0);
}
