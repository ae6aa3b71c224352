// The RFC 6902 diff: applying diff(a, b) to a gives b, with minimal array operations and escaped pointers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diff, escapePointer } from '../../webhook/patch.ts';
import { applyPatch } from '../../webhook/patch-apply.ts';

const cases: [string, unknown, unknown][] = [
  ['equal', { a: 1 }, { a: 1 }],
  ['add member', { a: 1 }, { a: 1, b: { c: [1] } }],
  ['remove member', { a: 1, b: 2 }, { a: 1 }],
  ['replace scalar', { a: 1 }, { a: 'x' }],
  ['replace type', { a: [1] }, { a: { b: 1 } }],
  ['prepend to array', { l: [{ n: 'app' }] }, { l: [{ n: 'init' }, { n: 'proxy' }, { n: 'app' }] }],
  ['append to array', { l: [1, 2] }, { l: [1, 2, 3, 4] }],
  ['remove from middle', { l: [1, 2, 3, 4] }, { l: [1, 4] }],
  ['change inside element', { l: [{ n: 'a', p: 1 }, { n: 'b' }] }, { l: [{ n: 'a', p: 2 }, { n: 'b' }] }],
  ['shrink and change', { l: [1, 2, 3] }, { l: [9] }],
  ['keys needing escapes', { m: { 'a/b': '1' } }, { m: { 'a/b': '2', 'sidecar.meshlet.io/status': 'x', 't~y': 'z' } }],
  ['new nested object', { metadata: {} }, { metadata: { annotations: { 'a/b': 'c' } } }],
];

for (const [name, a, b] of cases) {
  test(`diff then apply: ${name}`, () => {
    const ops = diff(a, b);
    assert.deepEqual(applyPatch(a, ops), b);
    if (name === 'equal') assert.deepEqual(ops, []);
  });
}

test('a prepended element is one add per element, not a rewrite of the array', () => {
  const ops = diff({ l: [{ n: 'app' }] }, { l: [{ n: 'init' }, { n: 'app' }] });
  assert.deepEqual(ops, [{ op: 'add', path: '/l/0', value: { n: 'init' } }]);
});

test('JSON pointer escaping: ~ then /', () => {
  assert.equal(escapePointer('sidecar.meshlet.io/status'), 'sidecar.meshlet.io~1status');
  assert.equal(escapePointer('a~/b'), 'a~0~1b');
  const ops = diff({ m: {} }, { m: { 'a~/b': 'v' } });
  assert.deepEqual(ops, [{ op: 'add', path: '/m/a~0~1b', value: 'v' }]);
});

test('undefined members are treated as absent', () => {
  assert.deepEqual(diff({ a: 1, b: undefined }, { a: 1 }), []);
  assert.deepEqual(diff({ a: 1 }, { a: 1, b: undefined }), []);
});
