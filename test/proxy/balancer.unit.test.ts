/** Load balancers (pure): round robin (plain and weighted), random, P2C least request, ring hash, maglev, locality. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../common/snapshot.ts';
import { createBalancer, type EndpointState } from '../../proxy/balancer/index.ts';
import { hash32 } from '../../proxy/balancer/hash.ts';
import { seededRandom } from '../../common/clock.ts';

const eps = (n: number, weights: number[] = [], loc?: (i: number) => Endpoint['locality']): EndpointState[] =>
  Array.from({ length: n }, (_, i) => {
    const endpoint: Endpoint = { address: `10.0.0.${i + 1}`, port: 80, labels: {}, weight: weights[i] ?? 1, healthy: true, ...(loc === undefined ? {} : { locality: loc(i) }) };
    return { endpoint, key: `10.0.0.${i + 1}:80`, active: 0 };
  });

const tally = (picks: (EndpointState | undefined)[]) => {
  const m = new Map<string, number>();
  for (const p of picks) m.set(p!.key, (m.get(p!.key) ?? 0) + 1);
  return m;
};

describe('balancers', () => {
  const rnd = seededRandom(42);
  it('ROUND_ROBIN cycles, and spreads by weight (smooth WRR)', () => {
    const b = createBalancer({ policy: 'ROUND_ROBIN' }, eps(3));
    assert.deepEqual([1, 2, 3, 4].map(() => b.pick(rnd)!.key), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.1:80']);
    const w = createBalancer({ policy: 'ROUND_ROBIN' }, eps(2, [3, 1]));
    const seq = Array.from({ length: 8 }, () => w.pick(rnd)!.key);
    assert.equal(seq.filter((k) => k === '10.0.0.1:80').length, 6);
    assert.notDeepEqual(seq.slice(0, 3), ['10.0.0.1:80', '10.0.0.1:80', '10.0.0.1:80'], 'smooth: no burst of the heavy endpoint');
  });
  it('RANDOM follows weights', () => {
    const b = createBalancer({ policy: 'RANDOM' }, eps(2, [1, 3]));
    const t = tally(Array.from({ length: 10_000 }, (_, i) => b.pick(() => i / 10_000)));
    assert.deepEqual([t.get('10.0.0.1:80'), t.get('10.0.0.2:80')], [2500, 7500]);
  });
  it('LEAST_REQUEST (P2C) prefers the less loaded of two candidates', () => {
    const e = eps(2);
    e[0]!.active = 10;
    const b = createBalancer({ policy: 'LEAST_REQUEST' }, e);
    for (let i = 0; i < 50; i++) assert.equal(b.pick(rnd)!.key, '10.0.0.2:80');
  });
  for (const policy of ['RING_HASH', 'MAGLEV'] as const) {
    it(`${policy} is consistent per key and moves few keys when an endpoint leaves`, () => {
      const all = eps(5);
      const b5 = createBalancer({ policy, hashOn: { kind: 'header', name: 'x' }, tableSize: policy === 'MAGLEV' ? 65537 : 1024 }, all);
      const b4 = createBalancer({ policy, hashOn: { kind: 'header', name: 'x' }, tableSize: policy === 'MAGLEV' ? 65537 : 1024 }, all.slice(0, 4));
      let moved = 0;
      const keys = Array.from({ length: 2000 }, (_, i) => hash32(`user-${i}`));
      for (const h of keys) {
        assert.equal(b5.pick(rnd, h), b5.pick(rnd, h));
        const before = b5.pick(rnd, h)!;
        if (before.key !== '10.0.0.5:80' && b4.pick(rnd, h)!.key !== before.key) moved++;
      }
      // Ideally only the removed endpoint's keys move. Maglev comes close; the ring rescales
      // points per endpoint to keep its minimum size (as Envoy does), so it moves a few more.
      assert.ok(moved / keys.length < (policy === 'MAGLEV' ? 0.08 : 0.15), `${policy} moved ${moved} of ${keys.length}`);
      const spread = tally(keys.map((h) => b5.pick(rnd, h)));
      for (const [, n] of spread) assert.ok(n > 200 && n < 650, `${policy} uneven: ${JSON.stringify([...spread])}`);
    });
  }
  it('MAGLEV honours endpoint weights', () => {
    const b = createBalancer({ policy: 'MAGLEV', hashOn: { kind: 'sourceIp' } }, eps(2, [1, 3]));
    const t = tally(Array.from({ length: 8000 }, (_, i) => b.pick(rnd, hash32(`k${i}`))));
    const share = t.get('10.0.0.2:80')! / 8000;
    assert.ok(share > 0.68 && share < 0.82, `weight-3 share ${share}`);
  });
  it('uses only the best locality present and skips unhealthy endpoints', () => {
    const e = eps(3, [], (i) => ({ region: 'r1', zone: i === 2 ? 'z1' : 'z2', subzone: '' }));
    e[2]!.endpoint.healthy = true;
    const b = createBalancer({ policy: 'ROUND_ROBIN' }, e, { region: 'r1', zone: 'z1', subzone: '' });
    for (let i = 0; i < 5; i++) assert.equal(b.pick(rnd)!.key, '10.0.0.3:80');
    e[2]!.endpoint.healthy = false;
    const b2 = createBalancer({ policy: 'ROUND_ROBIN' }, e, { region: 'r1', zone: 'z1', subzone: '' });
    assert.notEqual(b2.pick(rnd)!.key, '10.0.0.3:80');
    assert.equal(createBalancer({ policy: 'ROUND_ROBIN' }, []).pick(rnd), undefined);
  });
});
