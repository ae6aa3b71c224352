/**
 * validateObject never throws and only answers catalog codes, whatever it is fed: every
 * fixture mutated at random (seeded, bounded) — leaves swapped for values of other types,
 * keys dropped, lists emptied. The webhook and the operator call it on untrusted input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject } from '../../crds/validate.ts';
import { seededRandom } from '../../common/clock.ts';
import { catalog } from '../../common/errors.ts';
import { loadFixtures } from './fixtures.ts';

/** A deterministic PRNG, so a failure replays exactly. */
const rng = seededRandom;

const ODD_VALUES: unknown[] = [null, 0, -1, 1.5, 1e12, '', '*', 'x'.repeat(300), '(?=x)', [], {}, [null], { '': 1 }, true, '0s', '-1s', '1.0005s'];

function mutate(v: unknown, r: () => number, depth = 0): unknown {
  if (Array.isArray(v)) {
    if (r() < 0.1) return [];
    return v.map((x) => (r() < 0.3 ? mutate(x, r, depth + 1) : x));
  }
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (depth > 0 && r() < 0.08) continue; // drop a key (not apiVersion/kind at the top)
      out[k] = r() < 0.35 ? mutate(x, r, depth + 1) : x;
    }
    return out;
  }
  return r() < 0.5 ? ODD_VALUES[Math.floor(r() * ODD_VALUES.length)] : v;
}

test('mutated fixtures never make validateObject throw or answer an unknown code', () => {
  const codes = new Set(catalog().map((e) => e.code));
  const objects = loadFixtures().flatMap((f) => f.objects);
  const r = rng(20261124);
  let checked = 0;
  for (let round = 0; round < 8; round++) {
    for (const o of objects) {
      const m = mutate(o, r);
      const msgs = validateObject(m);
      checked++;
      for (const msg of msgs) {
        assert.ok(codes.has(msg.code), `unknown code ${msg.code}`);
        assert.notEqual(msg.code, 'MESHLET_CORE_INTERNAL', `validator crashed on ${JSON.stringify(m).slice(0, 500)}: ${msg.message}`);
        assert.ok(msg.level === 'error' || msg.level === 'warning');
      }
    }
  }
  assert.ok(checked > 1000, `only ${checked} objects checked`);
});
