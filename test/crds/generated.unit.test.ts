/** The generated files are exactly what the schema source produces (never edited by hand). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { generateAll } from '../../crds/gen/all.ts';

const dir = fileURLToPath(new URL('../../crds/generated/', import.meta.url));

test('crds/generated/ matches a fresh generation (run `npm run generate` after changing crds/schema/)', () => {
  const files = generateAll();
  assert.deepEqual(readdirSync(dir).sort(), [...files.keys()].sort(), 'file list differs');
  for (const [name, text] of files) assert.ok(readFileSync(`${dir}${name}`, 'utf8') === text, `crds/generated/${name} differs from the generator output`);
});

test('every CRD serves its versions with one schema, stores v1, and needs no conversion webhook', () => {
  for (const [name, text] of generateAll()) {
    if (!name.endsWith('.istio.io.yaml')) continue;
    const crd = parse(text) as { spec: { conversion: { strategy: string }; versions: { name: string; storage: boolean; served: boolean; schema: unknown }[] } };
    assert.equal(crd.spec.conversion.strategy, 'None');
    const stored = crd.spec.versions.filter((v) => v.storage).map((v) => v.name);
    assert.deepEqual(stored, ['v1'], name);
    const schemas = new Set(crd.spec.versions.map((v) => JSON.stringify(v.schema)));
    assert.equal(schemas.size, 1, `${name}: versions have different schemas`);
  }
});

test('crds/README.md lists exactly the fields the schema source marks unenforced', async () => {
  const { withUnenforcedSection } = await import('../../crds/gen/unenforced.ts');
  const { kinds } = await import('../../crds/schema/kinds.ts');
  const readme = readFileSync(new URL('../../crds/README.md', import.meta.url), 'utf8');
  assert.ok(readme === withUnenforcedSection(readme, kinds), 'run `npm run generate`: the unenforced-fields table in crds/README.md is stale');
});
