import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function meshlet(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('meshlet --help lists the commands and exits 0', () => {
  const r = meshlet('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^meshlet \d+\.\d+\.\d+: /);
  assert.match(r.stdout, /\n {2}version +Print the client version/);
});

test('meshlet version prints the package version and the Node 24 runtime', () => {
  const r = meshlet('version');
  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`^client: meshlet ${pkg.version.replaceAll('.', '\\.')} \\(node v24\\.`));
  assert.equal(meshlet('version', '--short').stdout, `${pkg.version}\n`);
});

test('every registered command answers --help with a usage line', async () => {
  const { commands } = await import('../../cli/commands/registry.ts');
  for (const name of Object.keys(commands)) {
    const r = meshlet(name, '--help');
    assert.equal(r.code, 0, `${name} --help exit code; stderr: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Usage: meshlet ${name}`), `${name} --help`);
  }
});

test('an unknown command and an unknown flag are usage errors (exit 2) with a pointer to --help', () => {
  const unknown = meshlet('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const badFlag = meshlet('version', '--bogus');
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /Unknown option '--bogus'/);
  assert.match(badFlag.stderr, /meshlet version --help/);
});
