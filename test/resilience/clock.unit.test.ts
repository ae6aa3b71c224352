/** The real clock's per-duration timer lists: order, cancellation, and mixed durations. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../common/clock.ts';
import { realClock } from '../../proxy/resilience/clock.ts';

describe('clocks', () => {
  it('realClock fires in deadline order, never a cancelled timer', async () => {
    const fired: string[] = [];
    const done = new Promise<void>((resolve) => {
      realClock.setTimeout(() => fired.push('a'), 15);
      const b = realClock.setTimeout(() => fired.push('b'), 15);
      realClock.setTimeout(() => fired.push('c'), 15);
      realClock.setTimeout(() => fired.push('short'), 5);
      const first = realClock.setTimeout(() => fired.push('cancelled-head'), 40);
      realClock.clearTimeout(first);
      realClock.setTimeout(() => {
        fired.push('last');
        resolve();
      }, 40);
      realClock.clearTimeout(b);
    });
    await done;
    assert.deepEqual(fired, ['short', 'a', 'c', 'last']);
  });

  it('ManualClock runs due timers in order as time advances', () => {
    const c = new ManualClock();
    const fired: number[] = [];
    c.setTimeout(() => fired.push(2), 20);
    c.setTimeout(() => fired.push(1), 10);
    const h = c.setTimeout(() => fired.push(3), 30);
    c.clearTimeout(h);
    c.advance(25);
    assert.deepEqual(fired, [1, 2]);
    assert.equal(c.now(), 25);
    assert.equal(c.pending, 0);
  });
});
