/** Flattens a scenario's result into bench figures: `<scenario>_<figure>`, with the unit or proxy in the key. */
import type { ScenarioResult } from './scenario.ts';

export function flatten(r: ScenarioResult): Record<string, number> {
  const p = r.name.replaceAll('-', '_');
  const f: Record<string, number> = {
    [`${p}_sent`]: r.sent,
    [`${p}_failed`]: r.failed,
    [`${p}_denied_reached_app`]: r.deniedReachedApp,
    [`${p}_fds_back_to_baseline`]: r.fdsBack ? 1 : 0,
    [`${p}_alive_and_answering`]: r.alive ? 1 : 0,
  };
  for (const [status, n] of Object.entries(r.failedByStatus)) f[`${p}_failed_status_${status}`] = n;
  for (const [flag, n] of Object.entries(r.failedByFlag)) f[`${p}_failed_flag_${flag}`] = n;
  for (const proxy of Object.keys(r.before)) {
    f[`${p}_rss_mb_before_${proxy}`] = r.before[proxy]!.rss_mb;
    f[`${p}_rss_mb_after_${proxy}`] = r.after[proxy]!.rss_mb;
    f[`${p}_fds_before_${proxy}`] = r.before[proxy]!.fds;
    f[`${p}_fds_after_${proxy}`] = r.after[proxy]!.fds;
  }
  for (const [k, v] of Object.entries(r.extra)) f[`${p}_${k}`] = v;
  return f;
}
