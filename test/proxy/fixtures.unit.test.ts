/** Every snapshot fixture validates and compiles (the bench and explain load them directly). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseSnapshot } from '../../common/snapshot-validate.ts';
import { compileSnapshot } from '../../proxy/runtime/compile-snapshot.ts';
import { PoolRegistry } from '../../proxy/upstream/pools.ts';

const dir = new URL('../fixtures/snapshots/', import.meta.url);

describe('snapshot fixtures', () => {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    it(`${name} validates and compiles`, async () => {
      const v = parseSnapshot(readFileSync(new URL(name, dir), 'utf8'));
      assert.ok(v.ok, JSON.stringify(v.ok ? '' : v.errors));
      const pools = new PoolRegistry();
      const rt = compileSnapshot(v.snapshot, { pools, random: Math.random, appHost: '127.0.0.1', inboundSource: '127.0.0.6' });
      assert.ok(rt.routes.size > 0);
      await pools.closeAll();
    });
  }
});
