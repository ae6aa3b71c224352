/** Consistent hashing: Envoy-style ring hash and Google's Maglev table, both weight-aware. */
import { hash32 } from './hash.ts';
import type { Balancer, EndpointState } from './types.ts';

/** Ring with about `minRingSize` points spread by weight; lookup is a binary search. */
export function ringHash(eps: readonly EndpointState[], minRingSize = 1024): Balancer {
  if (eps.length === 0) return { pick: () => undefined };
  const totalWeight = eps.reduce((s, e) => s + e.endpoint.weight, 0);
  const points: { h: number; e: EndpointState }[] = [];
  for (const e of eps) {
    const n = Math.max(1, Math.ceil((minRingSize * e.endpoint.weight) / totalWeight));
    for (let i = 0; i < n; i++) points.push({ h: hash32(`${e.key}_${i}`), e });
  }
  points.sort((a, b) => a.h - b.h);
  const hashes = Uint32Array.from(points, (p) => p.h);
  return {
    pick(rnd, hash) {
      const h = hash ?? Math.floor(rnd() * 0x100000000);
      let lo = 0;
      let hi = hashes.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (hashes[mid]! < h) lo = mid + 1;
        else hi = mid;
      }
      return points[lo === hashes.length ? 0 : lo]!.e;
    },
  };
}

/** Maglev lookup table of prime size `m` (65537 by default, as Envoy), filled by weighted turns. */
export function maglev(eps: readonly EndpointState[], m = 65537): Balancer {
  if (eps.length === 0) return { pick: () => undefined };
  const n = eps.length;
  const offset = eps.map((e) => hash32(e.key, 0x9747b28c) % m);
  const skip = eps.map((e) => (hash32(e.key, 0x5bd1e995) % (m - 1)) + 1);
  const next = new Array<number>(n).fill(0);
  const maxW = Math.max(...eps.map((e) => e.endpoint.weight));
  const table = new Int32Array(m).fill(-1);
  let filled = 0;
  // Weighted Maglev: an endpoint takes a slot on a round only when its cumulative weight allows.
  for (let round = 1; filled < m; round++) {
    for (let i = 0; i < n && filled < m; i++) {
      const w = eps[i]!.endpoint.weight;
      if (Math.floor((round * w) / maxW) === Math.floor(((round - 1) * w) / maxW)) continue;
      let c = (offset[i]! + next[i]! * skip[i]!) % m;
      while (table[c] !== -1) {
        next[i]!++;
        c = (offset[i]! + next[i]! * skip[i]!) % m;
      }
      table[c] = i;
      next[i]!++;
      filled++;
    }
  }
  return {
    pick(rnd, hash) {
      const h = hash ?? Math.floor(rnd() * 0x100000000);
      return eps[table[h % m]!];
    },
  };
}
