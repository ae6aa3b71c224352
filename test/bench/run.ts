/**
 * Runs every `*.bench.ts` in this folder (or the stages named on the command line), prints
 * each figure and each ratio against the baseline measured in the same run, and writes
 * `bench-result.json`. Benchmarks measure; they never pass or fail a build.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.ts';
import { ensurePrerequisites } from './lib/prerequisites.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const stages = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

function goalText(result: BenchResult, key: string, value: number): string {
  const goal = result.goals?.[key];
  if (goal === undefined) return '';
  const met = (goal.max === undefined || value <= goal.max) && (goal.min === undefined || value >= goal.min);
  return `  goal ${goal.max !== undefined ? `≤ ${goal.max}` : `≥ ${goal.min}`}: ${met ? 'met' : 'NOT met'}`;
}

const missing = ensurePrerequisites();
if (missing !== undefined) {
  console.error(missing);
  process.exit(1);
}

const results: BenchResult[] = [];
const failures: { name: string; error: string }[] = [];
console.log(`meshlet bench on Node ${process.version}, stages: ${stages.join(', ')}`);
for (const name of stages) {
  console.log(`\n== ${name}`);
  try {
    const mod = (await import(`./${name}.bench.ts`)) as { bench: () => Promise<BenchResult> };
    const result = await mod.bench();
    results.push(result);
    for (const [k, v] of Object.entries(result.figures)) console.log(`  ${k.padEnd(36)} ${v.toFixed(3).padStart(14)}${goalText(result, k, v)}`);
    for (const [k, v] of Object.entries(result.ratios ?? {})) console.log(`  ${k.padEnd(36)} ${`${v.toFixed(3)}×`.padStart(14)}${goalText(result, k, v)}`);
    for (const n of result.notes ?? []) console.log(`  note: ${n}`);
  } catch (err) {
    failures.push({ name, error: (err as Error).stack ?? String(err) });
    console.log(`  stage failed: ${(err as Error).message}`);
  }
}
const out = fileURLToPath(new URL('bench-result.json', import.meta.url));
writeFileSync(out, `${JSON.stringify({ node: process.version, date: new Date().toISOString(), results, failures }, null, 2)}\n`);
console.log(`\nwrote ${out}`);
process.exitCode = failures.length > 0 ? 1 : 0;
