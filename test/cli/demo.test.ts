/**
 * `npm run demo` (examples/demo/run.ts) on a copy of the demo with a short duration: it
 * prints the live table with the three subsets, the edit hint and the explain command,
 * stops by itself and leaves nothing listening.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('the demo runs a bounded load, shows the table per subset, follows a YAML edit and stops by itself', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-demo-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(new URL('../../examples/demo', import.meta.url).pathname, join(dir, 'demo'), { recursive: true });
  // Other addresses than the demo's own, so this can run beside test/cli/local.test.ts.
  const wl = join(dir, 'demo', 'mesh', 'workloads.yaml');
  writeFileSync(wl, readFileSync(wl, 'utf8').replaceAll('127.0.77.', '127.0.78.'));
  const proc = spawn(process.execPath, [new URL('../../examples/demo/run.ts', import.meta.url).pathname, '--dir', join(dir, 'demo', 'mesh'), '--duration', '16', '--plain', '--rps', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  let out = '';
  let edited = false;
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    // After the first table (about 5 s in), shift the canary as the demo tells the user to.
    if (!edited && out.includes('ROUTE (frontend → reviews)')) {
      edited = true;
      const file = join(dir, 'demo', 'mesh', 'reviews-routing.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('weight: 80', 'weight: 0').replace('weight: 20', 'weight: 100'));
    }
  });
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((r) => proc.once('close', (c) => r(c)));
  clearTimeout(killer);
  assert.equal(code, 0, out);
  assert.match(out, /Shift traffic: open .*reviews-routing\.yaml/);
  assert.match(out, /meshlet explain frontend\.default http:\/\/reviews:9080\/ -H user-tier:premium --operator http:\/\/127\.0\.0\.1:\d+/);
  const first = out.slice(out.indexOf('ROUTE (frontend → reviews)'));
  assert.match(first, /canary \(everyone else\)\s+v1\s+\d+%\s+[\d.]+\s+100\.0%\s+\d+ms\s+\d+ms/);
  assert.match(first, /canary \(everyone else\)\s+v2\s+\d+%/);
  assert.match(first, /premium \(user-tier: premium\)\s+v3\s+100%/);
  const last = out.slice(out.lastIndexOf('ROUTE (frontend → reviews)'));
  assert.match(last, /canary \(everyone else\)\s+v2\s+100%\s+[\d.]+\s+100\.0%/, 'the last window shows the shift to v2');
  assert.doesNotMatch(last, /canary \(everyone else\)\s+v1/);
  assert.match(last, /config changed \(reviews-routing\.yaml\)/);
  assert.match(last, /\[#{30}\] 16s \/ 16s/);
  assert.match(out, /16s elapsed; stopping the mesh…\ndemo stopped/);
  const open = await new Promise<boolean>((r) => {
    const s = connect(9080, '127.0.78.10');
    s.once('connect', () => {
      s.destroy();
      r(true);
    });
    s.once('error', () => r(false));
  });
  assert.equal(open, false, 'frontend still listening after the demo');
});
