/** Every fixture through the pure validators: valid ones have no errors, invalid ones the expected code at the expected path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject } from '../../crds/validate.ts';
import { crdErrors } from '../../common/errors/crd.ts';
import { loadFixtures } from './fixtures.ts';

const fixtures = loadFixtures();
const show = (ms: { code: string; path: string; level: string; message: string }[]): string => ms.map((m) => `${m.level} ${m.path}: ${m.message} [${m.code}]`).join('\n');

test('there are at least 60 fixtures, valid and invalid', () => {
  assert.ok(fixtures.length >= 60, `only ${fixtures.length} fixtures`);
  assert.ok(fixtures.filter((f) => f.valid).length >= 15);
  for (const f of fixtures.filter((x) => !x.valid)) assert.ok(f.expect.length > 0, `${f.name} has no "# expect:" line`);
});

for (const f of fixtures) {
  test(`fixture ${f.name}`, () => {
    const msgs = f.objects.flatMap((o) => validateObject(o));
    const errors = msgs.filter((m) => m.level === 'error');
    if (f.valid) assert.deepEqual(errors, [], `valid fixture has errors:\n${show(errors)}`);
    const unexpected = errors.filter((m) => !f.expect.some((e) => e.code === m.code));
    assert.deepEqual(unexpected, [], `errors not announced by "# expect:" lines:\n${show(unexpected)}`);
    for (const e of f.expect) assert.ok(errors.some((m) => m.code === e.code && m.path === e.path), `expected error ${e.code} at ${e.path}, got:\n${show(msgs)}`);
    for (const w of f.warn) assert.ok(msgs.some((m) => m.level === 'warning' && m.code === w.code && m.path === w.path), `expected warning ${w.code} at ${w.path}, got:\n${show(msgs)}`);
    for (const m of msgs) assert.ok(m.path !== '' && m.message !== '' && /^MESHLET_[A-Z]+_[A-Z_]+$/.test(m.code), `bad message ${JSON.stringify(m)}`);
  });
}

test('every rule code in the CRD catalog is exercised by an invalid fixture', () => {
  // Codes that are not rules about a field value (or are only warnings, covered by valid fixtures).
  const notRules = new Set(['MESHLET_CRD_NOT_OBJECT', 'MESHLET_CRD_BAD_VERSION', 'MESHLET_CRD_METADATA', 'MESHLET_CRD_YAML', 'MESHLET_CRD_REVIEW_MALFORMED', 'MESHLET_CRD_NOT_ENFORCED', 'MESHLET_CRD_DEPRECATED', 'MESHLET_CRD_MATCH_UNREACHABLE', 'MESHLET_CRD_MATCH_DUPLICATE', 'MESHLET_CRD_VS_NO_HOSTS', 'MESHLET_CRD_RANGE', 'MESHLET_CRD_TOO_MANY', 'MESHLET_CRD_DIRECT_RESPONSE', 'MESHLET_CRD_MATCH_SHADOWED', 'MESHLET_CRD_AP_TCP_DENY', 'MESHLET_CRD_RA_PRIVATE_KEY']);
  const covered = new Set(fixtures.flatMap((f) => f.expect.map((e) => e.code)));
  const missing = crdErrors.map((e) => e.code as string).filter((c) => !notRules.has(c) && !covered.has(c));
  assert.deepEqual(missing, []);
  const warned = new Set(fixtures.flatMap((f) => f.warn.map((e) => e.code)));
  for (const c of ['MESHLET_CRD_NOT_ENFORCED', 'MESHLET_CRD_MATCH_UNREACHABLE', 'MESHLET_CRD_MATCH_DUPLICATE', 'MESHLET_CRD_MATCH_SHADOWED', 'MESHLET_CRD_AP_TCP_DENY', 'MESHLET_CRD_RA_PRIVATE_KEY']) assert.ok(warned.has(c), `no fixture expects warning ${c}`);
});
