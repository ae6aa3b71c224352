/** Outlier detection state machine on a manual clock (no wall-clock waits). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutlierDetection } from '../../common/snapshot.ts';
import { ManualClock } from '../../common/clock.ts';
import { MAX_EJECTION_MS, OutlierDetector } from '../../proxy/resilience/outlier.ts';
import { newClusterStats } from '../../proxy/resilience/stats.ts';

const cfg = (o: Partial<OutlierDetection> = {}): OutlierDetection => ({ consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 0, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0, ...o });
const s503 = { kind: 'status', status: 503 } as const;
const s200 = { kind: 'status', status: 200 } as const;

function fail(d: OutlierDetector<string>, h: string, n: number, o: Parameters<OutlierDetector<string>['report']>[1] = s503): void {
  for (let i = 0; i < n; i++) d.report(h, o);
}

describe('outlier detector (manual clock)', () => {
  it('ejects after 5 consecutive 5xx, not after 4 or with a success between', () => {
    const clock = new ManualClock();
    const d = new OutlierDetector(cfg(), ['a', 'b'], clock);
    fail(d, 'a', 4);
    d.report('a', s200);
    fail(d, 'a', 4);
    assert.equal(d.isEjected('a'), false);
    d.report('a', s503);
    assert.equal(d.isEjected('a'), true);
    assert.deepEqual(d.available().hosts, ['b']);
  });

  it('an ejected host returns at the first interval after baseEjectionTime × times ejected', () => {
    const clock = new ManualClock();
    const changes: string[][] = [];
    const d = new OutlierDetector(cfg({ intervalMs: 10_000, baseEjectionTimeMs: 30_000 }), ['a', 'b'], clock);
    d.onChange = () => changes.push(d.available().hosts);
    fail(d, 'a', 5);
    clock.advance(29_999);
    d.tick();
    assert.equal(d.isEjected('a'), true, 'still out before 30 s');
    clock.advance(1);
    d.tick();
    assert.equal(d.isEjected('a'), false, 'back at 30 s');
    assert.deepEqual(changes, [['b'], ['a', 'b']]);
    // Second ejection: 2 × base = 60 s.
    fail(d, 'a', 5);
    assert.equal(d.isEjected('a'), true);
    clock.advance(50_000);
    d.tick();
    assert.equal(d.isEjected('a'), true, 'second ejection lasts 60 s');
    clock.advance(10_000);
    d.tick();
    assert.equal(d.isEjected('a'), false);
  });

  it('ejection time is capped at max(base, 300 s)', () => {
    const d = new OutlierDetector(cfg({ baseEjectionTimeMs: 100_000 }), ['a'], new ManualClock());
    assert.equal(d.ejectionMs(1), 100_000);
    assert.equal(d.ejectionMs(5), MAX_EJECTION_MS);
    const big = new OutlierDetector(cfg({ baseEjectionTimeMs: 400_000 }), ['a'], new ManualClock());
    assert.equal(big.ejectionMs(3), 400_000);
  });

  it('the multiplier decays after a healthy ejection period', () => {
    const clock = new ManualClock();
    const d = new OutlierDetector(cfg({ intervalMs: 1000, baseEjectionTimeMs: 1000 }), ['a', 'b'], clock);
    fail(d, 'a', 5);
    clock.advance(1000);
    d.tick();
    assert.equal(d.hostState('a')!.ejections, 1);
    clock.advance(1000);
    d.tick();
    assert.equal(d.hostState('a')!.ejections, 0);
  });

  it('maxEjectionPercent bounds ejections (Istio default 10% ejects nobody among 2 hosts)', () => {
    const stats = newClusterStats();
    const d = new OutlierDetector(cfg({ maxEjectionPercent: 10 }), ['a', 'b'], new ManualClock(), stats);
    fail(d, 'a', 5);
    assert.equal(d.isEjected('a'), false);
    assert.equal(stats.outlier_detection_ejections_overflow, 1);
    const hosts = Array.from({ length: 10 }, (_, i) => `h${i}`);
    const d10 = new OutlierDetector(cfg({ maxEjectionPercent: 10 }), hosts, new ManualClock());
    fail(d10, 'h0', 5);
    fail(d10, 'h1', 5);
    assert.equal(d10.isEjected('h0'), true);
    assert.equal(d10.isEjected('h1'), false, 'a second host would exceed 10%');
    const half = new OutlierDetector(cfg({ maxEjectionPercent: 50 }), ['a', 'b'], new ManualClock());
    fail(half, 'a', 5);
    fail(half, 'b', 5);
    assert.equal(half.ejectedCount, 1);
  });

  it('panic mode: below minHealthPercent every host is used', () => {
    const d = new OutlierDetector(cfg({ minHealthPercent: 60 }), ['a', 'b'], new ManualClock());
    fail(d, 'a', 5);
    const av = d.available();
    assert.equal(av.panic, true);
    assert.deepEqual(av.hosts, ['a', 'b']);
    const off = new OutlierDetector(cfg({ minHealthPercent: 0 }), ['a', 'b'], new ManualClock());
    fail(off, 'a', 5);
    assert.deepEqual(off.available(), { hosts: ['b'], panic: false });
  });

  it('consecutiveGatewayErrors counts only 502/503/504; 500 resets it', () => {
    const d = new OutlierDetector(cfg({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 }), ['a', 'b'], new ManualClock());
    fail(d, 'a', 2, { kind: 'status', status: 502 });
    d.report('a', { kind: 'status', status: 500 });
    fail(d, 'a', 2, { kind: 'status', status: 504 });
    assert.equal(d.isEjected('a'), false);
    d.report('a', s503);
    assert.equal(d.isEjected('a'), true);
  });

  it('local-origin failures: counted as 5xx by default, apart in split mode', () => {
    const plain = new OutlierDetector(cfg(), ['a', 'b'], new ManualClock());
    fail(plain, 'a', 5, { kind: 'local', what: 'connect' });
    assert.equal(plain.isEjected('a'), true);
    const split = new OutlierDetector(cfg({ consecutive5xxErrors: 0, consecutiveLocalOriginFailures: 3 }), ['a', 'b'], new ManualClock());
    fail(split, 'a', 2, { kind: 'local', what: 'reset' });
    split.report('a', { kind: 'connected' });
    fail(split, 'a', 2, { kind: 'local', what: 'reset' });
    assert.equal(split.isEjected('a'), false);
    split.report('a', { kind: 'local', what: 'timeout' });
    assert.equal(split.isEjected('a'), true);
    fail(split, 'b', 10);
    assert.equal(split.isEjected('b'), false, 'upstream 5xx do not count when consecutive5xxErrors is 0');
  });
});

describe('outlier state across snapshots', () => {
  it('a rebuilt detector with the same settings keeps ejections (by host key); other settings start fresh', () => {
    const clock = new ManualClock();
    const a = { k: 'a' };
    const b = { k: 'b' };
    const d1 = new OutlierDetector(cfg(), [a, b], clock);
    for (let i = 0; i < 5; i++) d1.report(a, s503);
    assert.equal(d1.isEjected(a), true);
    const a2 = { k: 'a' };
    const b2 = { k: 'b' };
    const d2 = new OutlierDetector(cfg(), [a2, b2], clock);
    assert.equal(d2.sameConfig(cfg()), true);
    d2.adopt(d1, (h) => h.k);
    assert.equal(d2.isEjected(a2), true);
    assert.equal(d2.ejectedCount, 1);
    clock.advance(30_000);
    d2.tick();
    assert.equal(d2.isEjected(a2), false, 'the adopted ejection still ends on time');
    assert.equal(d2.sameConfig(cfg({ baseEjectionTimeMs: 1 })), false);
  });
});
