/**
 * Golden tests of translate(world, proxy): each test/fixtures/translate/<name>/ holds the
 * objects (in.yaml), the proxy's claim (proxy.json) and the expected snapshot (out.json).
 * Regenerate with `UPDATE_GOLDEN=1 node --test test/operator/translate-golden.unit.test.ts`
 * (or pass `--update`), then review the diff. Every snapshot must pass validateSnapshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { validateSnapshot } from '../../common/snapshot-validate.ts';
import { parseYamlObjects } from '../../operator/sources/yaml-docs.ts';
import { Store } from '../../operator/store/store.ts';
import { buildWorld } from '../../operator/world/build.ts';
import { translate, resolveProxy, type ProxyClaim } from '../../operator/translate/index.ts';
import { snapshotFor, bodyText } from '../../operator/push/snapshot-cache.ts';
import { gunzipSync } from 'node:zlib';
import { gzipStored } from '../../operator/push/gzip-stored.ts';

const ROOT = 'test/fixtures/translate';
const update = process.env.UPDATE_GOLDEN === '1' || process.argv.includes('--update');

export function runScenario(dir: string): unknown {
  const parsed = parseYamlObjects(readFileSync(join(dir, 'in.yaml'), 'utf8'), 'in.yaml');
  assert.deepEqual(parsed.problems, [], 'fixture YAML must parse');
  const store = new Store();
  store.replace(parsed.objects.map((o) => ({ object: o.object, origin: o.origin })), () => true);
  const world = buildWorld(store.acceptedObjects());
  const claim = JSON.parse(readFileSync(join(dir, 'proxy.json'), 'utf8')) as ProxyClaim;
  return translate(world, resolveProxy(world, claim));
}

const scenarios = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'in.yaml'))).sort();

test('there are at least 20 golden scenarios', () => {
  assert.ok(scenarios.length >= 20, `only ${scenarios.length} scenarios`);
});

for (const name of scenarios) {
  test(`translate golden: ${name}`, () => {
    const dir = join(ROOT, name);
    const snap = runScenario(dir);
    const v = validateSnapshot(snap);
    assert.ok(v.ok, `snapshot invalid: ${JSON.stringify(v.ok ? [] : v.errors.slice(0, 3))}`);
    const text = `${JSON.stringify(snap, null, 2)}\n`;
    const outPath = join(dir, 'out.json');
    if (update) writeFileSync(outPath, text);
    assert.ok(existsSync(outPath), `${name}: no out.json yet (run with UPDATE_GOLDEN=1, then review)`);
    assert.equal(text, readFileSync(outPath, 'utf8'), `${name}: snapshot differs from out.json (UPDATE_GOLDEN=1 to regenerate, then review)`);
  });
}

test('the push server body is byte-identical to JSON.stringify(translate(...)) for every scenario', async () => {
  for (const name of scenarios) {
    const dir = join(ROOT, name);
    const parsed = parseYamlObjects(readFileSync(join(dir, 'in.yaml'), 'utf8'), 'in.yaml');
    const store = new Store();
    store.replace(parsed.objects.map((o) => ({ object: o.object })), () => true);
    const world = buildWorld(store.acceptedObjects());
    const proxy = resolveProxy(world, JSON.parse(readFileSync(join(dir, 'proxy.json'), 'utf8')) as ProxyClaim);
    const built = snapshotFor(world, proxy);
    const want = JSON.stringify(translate(world, proxy));
    assert.equal(bodyText(built), want, name);
    // What a gzip-accepting proxy gets: two gzip members, one stream.
    assert.equal(gunzipSync(Buffer.concat([gzipStored(Buffer.from(built.head)), ...(await Promise.all(built.pieces.map((p) => p.gzip())))])).toString('utf8'), want, `${name} (gzip)`);
  }
});
