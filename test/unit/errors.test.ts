import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog, errorEntry, formatError, MeshletError, type ErrorCode } from '../../common/errors.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_DIRS = ['common', 'crds', 'operator', 'webhook', 'proxy', 'cli', 'charts', 'examples'];
const CODE = /MESHLET_[A-Z0-9]+(?:_[A-Z0-9]+)+/g;

function* files(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|js|ya?ml|json|md|tpl)$/.test(name)) yield path;
  }
}

test('every catalog code is unique, well-formed and has a message and a hint', () => {
  const seen = new Set<string>();
  for (const e of catalog()) {
    assert.match(e.code, /^MESHLET_[A-Z0-9]+(_[A-Z0-9]+)+$/, e.code);
    assert.ok(!seen.has(e.code), `duplicate code ${e.code}`);
    seen.add(e.code);
    assert.ok(e.message.length > 0 && !e.message.includes('\n'), `${e.code}: one-line message`);
    assert.ok(e.hint.length > 0, `${e.code}: hint`);
    assert.ok(Number.isInteger(e.status) && e.status >= 400 && e.status <= 599, `${e.code}: HTTP status ${e.status}`);
  }
  assert.ok(seen.size > 0);
});

test('every MESHLET_ code written anywhere in the code base is in the catalog', () => {
  const known = new Set(catalog().map((e) => e.code));
  const sources = SOURCE_DIRS.flatMap((dir) => [...files(join(root, dir))]).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  // Environment variables share the MESHLET_ prefix; any name read through an `env` object is one, not a code.
  const envVars = new Set<string>();
  // Env contexts: `env.X`, `env['X']`, a YAML env entry `name: X`, a shell assignment `X=`.
  const envUse = /(?:env(?:\.|\[['"])|name:\s*)(MESHLET_[A-Z0-9_]+)|\b(MESHLET_[A-Z0-9_]+)=/g;
  for (const { text } of sources) for (const m of text.matchAll(envUse)) envVars.add(m[1] ?? m[2] ?? '');
  const missing: string[] = [];
  for (const { file, text } of sources) {
    {
      for (const m of text.matchAll(CODE)) {
        if (envVars.has(m[0])) continue;
        // Prefix-only mentions such as MESHLET_<AREA>_ in docs end with an underscore and are not codes.
        if (!known.has(m[0]) && !text.slice(m.index + m[0].length).startsWith('_')) missing.push(`${relative(root, file)}: ${m[0]}`);
      }
    }
  }
  assert.deepEqual(missing, [], `codes used but not in common/errors/: \n${missing.join('\n')}`);
});

test('a MeshletError answers with its catalog entry\'s status, whatever its code is named', () => {
  assert.equal(new MeshletError('MESHLET_SECURITY_FORBIDDEN').status, 403);
  assert.equal(new MeshletError('MESHLET_OPERATOR_BAD_REQUEST').status, 400);
  assert.equal(new MeshletError('MESHLET_PROXY_NO_ROUTE').status, 404);
  assert.equal(new MeshletError('MESHLET_SECURITY_CA_LOAD').status, 500);
  assert.equal(new MeshletError('MESHLET_OPERATOR_NOT_READY').status, 503);
});

test('an unknown code throws, a known one formats with its hint', () => {
  assert.throws(() => errorEntry('MESHLET_NOPE_NOPE' as ErrorCode), /unknown error code/);
  const text = formatError('MESHLET_SNAPSHOT_INVALID', 'routes[0].name: must be a non-empty string');
  assert.match(text, /^proxy snapshot failed validation: routes\[0\]\.name: must be a non-empty string \[MESHLET_SNAPSHOT_INVALID\]\n {2}hint: /);
  const err = new MeshletError('MESHLET_SNAPSHOT_PARSE', 'unexpected end', '$');
  assert.equal(err.code, 'MESHLET_SNAPSHOT_PARSE');
  assert.equal(err.path, '$');
});
