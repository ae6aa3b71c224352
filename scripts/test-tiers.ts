/**
 * The test tiers. Unit tests are pure: they start no process, server, socket or cluster and
 * read nothing over the network, so they run in seconds anywhere. They live in `test/unit/`
 * or are named `*.unit.test.ts` next to the tests of their part; every other test is an
 * integration test (real apiserver, real proxies, real apps). `npm run test:unit` runs the
 * unit tier (`node scripts/test-tiers.ts --run`); test/unit/test-tiers.test.ts checks that each
 * file's name matches what it does.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { importsOf, ROOT } from './import-graph.ts';

/** What makes a test file an integration test: a module or call that reaches outside the process. */
export const IO_MARKERS = /from 'node:(child_process|net|http|http2|https|tls|dgram|worker_threads)'|from '(undici|@kubernetes\/client-node|playwright-core)'|cluster\/cluster\.ts|helpers\/(?!snapshot\.ts)|\.listen\(|startProxy|startOperator|buildPushApp|spawn|fetch\(|createServer|startCluster|\.inject\(/;

export function allTestFiles(dir = join(ROOT, 'test')): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'results') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...allTestFiles(path));
    else if (name.endsWith('.test.ts')) out.push(relative(ROOT, path));
  }
  return out.sort();
}

export const isUnitByName = (file: string): boolean => file.startsWith('test/unit/') || file.endsWith('.unit.test.ts');
/** Whether a test file, or a test helper it imports (transitively), reaches outside the process. */
export function doesIo(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  if (IO_MARKERS.test(readFileSync(join(ROOT, file), 'utf8'))) return true;
  return importsOf(join(ROOT, file)).some((dep) => dep.startsWith('test/') && /\.[jt]s$/.test(dep) && doesIo(dep, seen));
}

if (process.argv[1] === import.meta.filename && process.argv[2] === '--run') {
  const unit = allTestFiles().filter(isUnitByName);
  process.stdout.write(`meshlet: ${unit.length} unit test files (pure: no process, server, socket or cluster) of ${allTestFiles().length}\n`);
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...process.argv.slice(3), ...unit], { cwd: ROOT, stdio: 'inherit' });
  process.stdout.write(`meshlet: ran ${unit.length} unit test files\n`);
  process.exit(r.status ?? 1);
}
