/**
 * `npm run demo`: starts `meshlet local examples/demo/mesh` (operator, 5 proxies, 5 apps),
 * drives a bounded load at the frontend, and prints a live table per route and subset.
 * Edit examples/demo/mesh/reviews-routing.yaml while it runs to shift traffic. Stops by
 * itself after --duration seconds unless --keep-running.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, watch, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { planLocal } from '../../cli/local/plan.ts';
import { readDirectoryObjects } from '../../operator/sources/local-dir.ts';
import { getOnce, startLoad } from './load.ts';
import { RollingStats } from './stats.ts';
import { renderTable, rowsOf } from './table.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const { values } = parseArgs({ options: {
  duration: { type: 'string', default: '60' }, 'keep-running': { type: 'boolean' }, rps: { type: 'string', default: '40' },
  dir: { type: 'string', default: join(here, 'mesh') }, plain: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} });
if (values.help === true) {
  process.stdout.write('Usage: npm run demo -- [--duration 60] [--keep-running] [--rps 40] [--dir examples/demo/mesh] [--plain]\n');
  process.exit(0);
}
const dir = resolve(values.dir);
const durationS = Number(values.duration);
const keep = values['keep-running'] === true;
const tty = process.stdout.isTTY === true && values.plain !== true;
const rulesFile = relative(process.cwd(), join(dir, 'reviews-routing.yaml'));
// The frontend's address and port come from the directory (tests run a copy on other addresses).
const frontendEntry = planLocal(readDirectoryObjects(dir).objects, dir).workloads.find((w) => w.labels.app === 'frontend');
const FRONTEND = { host: frontendEntry?.address ?? '127.0.77.10', port: frontendEntry?.port ?? 9080 };

const logDir = mkdtempSync(join(tmpdir(), 'meshlet-demo-'));
const logFile = join(logDir, 'mesh.log');
const log = createWriteStream(logFile);
process.stdout.write(`meshlet demo: starting the mesh from ${relative(process.cwd(), dir) || dir} (operator, proxies and apps log to ${logFile})\n`);
const bin = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
const mesh = spawn(process.execPath, [bin, 'local', dir, '--push-port', '0', '--monitor-port', '0', '--no-color'], { stdio: ['ignore', 'pipe', 'pipe'] });
mesh.stdout.pipe(log);
mesh.stderr.pipe(log);
const meshExit = new Promise<number | null>((r) => mesh.once('close', (c) => r(c)));
let operatorUrl = '';
const ready = new Promise<boolean>((resolveReady) => {
  let buf = '';
  mesh.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    const m = /local \| ready: .*MESHLET_OPERATOR=(\S+)/.exec(buf);
    if (m !== null) {
      operatorUrl = m[1]!;
      resolveReady(true);
    }
  });
  void meshExit.then(() => resolveReady(false));
});

async function stopMesh(): Promise<void> {
  if (mesh.exitCode === null) mesh.kill('SIGINT');
  await meshExit;
  log.end();
}

if (!(await ready)) {
  process.stderr.write(`meshlet demo: the mesh did not start; see ${logFile}\n`);
  process.exit(3);
}
// Apps start after their proxies: wait (bounded) until the frontend answers.
let up = false;
for (let i = 0; i < 100 && !up; i++) {
  up = (await getOnce(FRONTEND.host, FRONTEND.port, false, 1000)).status === 200;
  if (!up) await new Promise((r) => setTimeout(r, 200));
}
if (!up) {
  process.stderr.write(`meshlet demo: the frontend never answered on ${FRONTEND.host}:${FRONTEND.port}; see ${logFile}\n`);
  await stopMesh();
  process.exit(3);
}
process.stdout.write(`
The mesh is up: frontend → reviews (v1, v2, v3) → ratings, each app behind its own proxy.
Routing now (${rulesFile}): premium users (header user-tier: premium) → v3; everyone else 80% v1 / 20% v2.

  ▶ Shift traffic: open ${rulesFile}, change "weight: 80" / "weight: 20" to e.g. 20 / 80, save.
    The SHARE column follows within a few seconds.
  ▶ Ask why:   bin/meshlet explain frontend.default http://reviews:9080/ -H user-tier:premium --operator ${operatorUrl}
  ▶ See more:  bin/meshlet proxy-status --operator ${operatorUrl}

`);

const stats = new RollingStats(5000);
const started = performance.now();
let note = '';
const watcher = watch(dir, { recursive: true }, (_e, f) => {
  note = `config changed (${String(f)}) at ${((performance.now() - started) / 1000).toFixed(0)}s`;
});
const load = startLoad({
  ...FRONTEND, rps: Number(values.rps), concurrency: 8, premiumShare: 0.2, random: Math.random,
  maxRequests: keep ? Number.MAX_SAFE_INTEGER : Math.ceil(durationS * Number(values.rps) * 1.2),
  onResult: (r) => stats.add(`${r.premium ? 'premium (user-tier: premium)' : 'canary (everyone else)'}\t${r.version}`, { at: performance.now(), ms: r.ms, ok: r.status === 200 }),
});
let lastLines = 0;
let lastPlain = 0;
const draw = (final: boolean): void => {
  const elapsed = (performance.now() - started) / 1000;
  const text = renderTable(rowsOf(stats.snapshot(performance.now())), Math.min(elapsed, keep ? elapsed : durationS), keep ? undefined : durationS, note);
  if (tty) {
    process.stdout.write(`${lastLines > 0 ? `\x1b[${lastLines}A\x1b[J` : ''}${text}`);
    lastLines = text.split('\n').length - 1;
  } else if (final || elapsed - lastPlain >= 5) {
    lastPlain = elapsed;
    process.stdout.write(`${text}\n`);
  }
};
const timer = setInterval(() => draw(false), 1000);
let stopping = false;
const finish = async (why: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  clearTimeout(limit);
  watcher.close();
  load.stop();
  await load.done;
  draw(true);
  process.stdout.write(`\n${why}; stopping the mesh…\n`);
  await stopMesh();
  rmSync(logDir, { recursive: true, force: true });
  process.stdout.write('demo stopped. Reset the YAML with: git checkout examples/demo/mesh\n');
};
const limit = setTimeout(() => void finish(`${durationS}s elapsed`), keep ? 2 ** 31 - 1 : durationS * 1000);
process.once('SIGINT', () => void finish('interrupted'));
process.once('SIGTERM', () => void finish('terminated'));
void meshExit.then(() => void finish('the mesh exited'));
