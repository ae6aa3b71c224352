/**
 * Prometheus's `histogram_quantile` on cumulative bucket rates: the rank q·total falls in a
 * bucket and is interpolated linearly inside it; a rank in the +Inf bucket answers the
 * largest finite bound. Pure.
 */
export interface BucketRate {
  /** Upper bound (Infinity for +Inf). */
  le: number;
  /** Cumulative rate (or count) of observations ≤ le. */
  value: number;
}

export function histogramQuantile(q: number, buckets: readonly BucketRate[]): number | undefined {
  const b = [...buckets].sort((x, y) => x.le - y.le);
  if (b.length < 2 || b[b.length - 1]!.le !== Infinity) return undefined;
  const total = b[b.length - 1]!.value;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let i = 0;
  while (i < b.length - 1 && b[i]!.value < rank) i++;
  if (b[i]!.le === Infinity) return b[b.length - 2]!.le;
  const lower = i === 0 ? 0 : b[i - 1]!.le;
  const below = i === 0 ? 0 : b[i - 1]!.value;
  const inBucket = b[i]!.value - below;
  if (inBucket <= 0) return b[i]!.le;
  return lower + (b[i]!.le - lower) * ((rank - below) / inBucket);
}
