import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cycles, graph, PARTS } from '../../scripts/import-graph.ts';

// The layering of docs/ARCHITECTURE.md: each part and what it may import.
const ALLOWED: Record<string, string[]> = {
  common: [],
  crds: ['common'],
  proxy: ['common', 'crds'],
  webhook: ['common', 'crds'],
  operator: ['common', 'crds', 'proxy', 'webhook'],
  cli: ['common', 'crds', 'proxy', 'webhook', 'operator'],
};

// Type-only cycles inside proxy/h1 (the HTTP/1.1 codec's connection and exchange name each
// other's types) are that folder owner's to break; listed so that no new cycle gets in, and
// the test fails when one of these is gone so the list shrinks with the code.
const KNOWN_CYCLES = new Set(['proxy/h1/client-conn.ts → proxy/h1/client-exchange.ts → proxy/h1/client-conn.ts']);

const g = graph();

test('the module graph of the product code has no import cycle, type-only imports included', () => {
  assert.ok(g.size > 200, `read ${g.size} modules`);
  const found = cycles(g).map((c) => c.join(' → '));
  assert.deepEqual(found.filter((c) => !KNOWN_CYCLES.has(c)), []);
  for (const known of KNOWN_CYCLES) assert.ok(found.includes(known), `${known} is no longer a cycle: remove it from KNOWN_CYCLES`);
});

test('every import (static, type-only, re-export or dynamic) follows the layering', () => {
  const wrong: string[] = [];
  for (const [file, deps] of g) {
    const from = file.split('/')[0]!;
    for (const dep of deps) {
      const to = dep.split('/')[0]!;
      if (to === from || !(PARTS as readonly string[]).includes(to)) continue;
      if (!ALLOWED[from]!.includes(to)) wrong.push(`${file} imports ${dep}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the cycle finder reports a cycle once, from its first module', () => {
  const fake = new Map([['common/a.ts', ['common/b.ts']], ['common/b.ts', ['common/a.ts', 'proxy/x.ts']]]);
  assert.deepEqual(cycles(fake).map((c) => c.join(' → ')), ['common/a.ts → common/b.ts → common/a.ts']);
});
