/**
 * Bad config under load: the policy file rewritten with one broken YAML document (the DENY
 * rule), then cut half way (as a writer caught mid-write), then restored. After each edit a
 * marker Service is added and the server sidecar is awaited until its config holds it, so
 * the broken state was really served while the load ran.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOOD_POLICY, type ChaosMesh } from './mesh.ts';
import { startLoad } from './load.ts';
import { sleep, until } from './procs.ts';
import type { ScenarioBody } from './scenario.ts';

let markers = 0;

/** Adds a Service and waits (bounded) until the server sidecar applied a config that has it. */
export async function settled(m: ChaosMesh): Promise<boolean> {
  const name = `chaos-marker-${++markers}`;
  writeFileSync(join(m.mesh, `${name}.yaml`), `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: default}\nspec:\n  ports: [{name: http, port: 9080}]\n`);
  return until(async () => (await (await fetch(`http://${m.opts.server}:15000/config_dump`, { signal: AbortSignal.timeout(3000) })).text()).includes(`${name}.default.svc`), 20_000);
}

export const BROKEN_DENY = GOOD_POLICY.replace('paths: [/deny]', 'paths: [/deny');
export const HALF_WRITTEN = GOOD_POLICY.slice(0, GOOD_POLICY.indexOf('{name: allow-client-get') + 10);

export function badConfig(o: { rate: number; holdMs: number }): ScenarioBody {
  return async (m) => {
    const load = startLoad(m, o.rate, Math.ceil((o.rate * (3 * o.holdMs + 60_000)) / 1000));
    let applied = 0;
    for (const text of [BROKEN_DENY, HALF_WRITTEN, GOOD_POLICY]) {
      writeFileSync(m.policyFile, text);
      if (await settled(m)) applied++;
      // Keep the load on this state a while: a dropped DENY shows up as /deny reaching the app.
      await sleep(o.holdMs);
    }
    load.stop();
    return { load: await load.done, extra: { edits_applied: applied } };
  };
}
