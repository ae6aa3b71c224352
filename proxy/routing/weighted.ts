/** Weighted choice among a route's destinations with an injected random source, pure. */
import type { Random } from '../../common/clock.ts';

export interface WeightedPicker<T> {
  pick(random: Random): T;
}

/** Cumulative weights; `random()` in [0,1) maps onto them. Zero-weight items are never picked. */
export function weightedPicker<T extends { weight: number }>(items: readonly T[]): WeightedPicker<T> {
  const first = items.find((i) => i.weight > 0) ?? items[0];
  if (first === undefined) throw new Error('weightedPicker needs at least one item');
  const live = items.filter((i) => i.weight > 0);
  if (live.length <= 1) return { pick: () => first };
  const cum: number[] = [];
  let total = 0;
  for (const i of live) cum.push((total += i.weight));
  return {
    pick(random) {
      const x = random() * total;
      for (let k = 0; k < cum.length; k++) if (x < cum[k]!) return live[k]!;
      return live[live.length - 1]!;
    },
  };
}
