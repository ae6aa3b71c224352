/**
 * bin/meshlet started by an older Node re-runs itself with the pinned Node 24 as a child.
 * A process manager knows only the wrapper's pid: SIGTERM, SIGINT and SIGHUP sent to the
 * wrapper must stop the real process (a real `meshlet operator --local`), and the wrapper
 * must end as the real process ended: its exit code, or the signal that killed it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocAddress } from '../proxy/helpers/addresses.ts';

const BIN = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));

/** A Node older than 24 on this machine (the case the wrapper exists for), if there is one. */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(candidate)) continue;
    const v = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (Number(v.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}

/** Pids of every live process whose command line mentions `marker` (zombies excluded). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (/\) Z /.test(readFileSync(`/proc/${name}/stat`, 'utf8'))) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const old = olderNode();

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${sig} to the wrapper stops the real process and the wrapper ends as it did`, { skip: old === undefined ? 'no Node older than 24 on this machine: the wrapper path is not taken' : false }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-wrapper-'));
    const mesh = join(dir, 'mesh');
    const args = [BIN, 'operator', '--local', mesh, '--address', allocAddress(87), '--push-port', '0', '--monitor-port', '0', '--ca-file', join(dir, 'root.pem')];
    mkdirSync(mesh);
    const wrapper = spawn(old!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => {
      for (const pid of processesWith(dir)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    let out = '';
    wrapper.stdout.on('data', (d: Buffer) => (out += d.toString()));
    wrapper.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => wrapper.once('exit', (code, signal) => r({ code, signal })));
    await new Promise<void>((ready, fail) => {
      const check = (): void => {
        if (out.includes('operator ready')) ready();
      };
      wrapper.stdout.on('data', check);
      wrapper.stderr.on('data', check);
      void exited.then(() => fail(new Error(`wrapper exited before the operator was ready: ${out.slice(-2000)}`)));
    });
    const real = processesWith(dir).filter((p) => p !== wrapper.pid);
    assert.equal(real.length, 1, `one real process under the wrapper, found ${real.join(', ')}`);
    assert.match(readFileSync(`/proc/${real[0]}/cmdline`, 'utf8'), /node_modules\/node\/bin\/node/, 'the child runs the pinned Node');

    process.kill(wrapper.pid!, sig);
    const end = await exited;
    // The operator stops cleanly (exit 0) on SIGTERM and SIGINT; it has no SIGHUP handler, so
    // SIGHUP kills it and the wrapper re-raises the same signal.
    assert.deepEqual(end, sig === 'SIGHUP' ? { code: null, signal: 'SIGHUP' } : { code: 0, signal: null }, out.slice(-2000));
    assert.deepEqual(processesWith(dir), [], 'nothing is left running');
  });
}
