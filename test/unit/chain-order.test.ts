import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CHAIN_ORDER } from '../../proxy/features/index.ts';

test('proxy/chain/README.md shows the chain order the code composes (CHAIN_ORDER)', () => {
  const readme = readFileSync(new URL('../../proxy/chain/README.md', import.meta.url), 'utf8');
  const lines = readme.split('\n').filter((l) => /^\S+( → \S+)+$/.test(l.trim()) && l.trim().endsWith('→ terminal'));
  assert.deepEqual(lines.map((l) => l.trim()), [[...CHAIN_ORDER, 'terminal'].join(' → ')], 'exactly one statement of the order, equal to the code');
});
