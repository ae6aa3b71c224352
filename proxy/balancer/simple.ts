/** ROUND_ROBIN (smooth weighted), RANDOM (weighted) and LEAST_REQUEST (power of two choices). */
import type { Random } from '../../common/clock.ts';
import type { Balancer, EndpointState } from './types.ts';

function allEqual(eps: readonly EndpointState[]): boolean {
  return eps.every((e) => e.endpoint.weight === eps[0]!.endpoint.weight);
}

export function roundRobin(eps: readonly EndpointState[]): Balancer {
  if (eps.length === 0) return { pick: () => undefined };
  if (allEqual(eps)) {
    let next = 0;
    return {
      pick() {
        const e = eps[next]!;
        next = next + 1 === eps.length ? 0 : next + 1;
        return e;
      },
    };
  }
  // nginx's smooth weighted round robin: spreads heavy endpoints instead of bursting them.
  const current = eps.map(() => 0);
  const total = eps.reduce((s, e) => s + e.endpoint.weight, 0);
  return {
    pick() {
      let best = 0;
      for (let i = 0; i < eps.length; i++) {
        current[i]! += eps[i]!.endpoint.weight;
        if (current[i]! > current[best]!) best = i;
      }
      current[best]! -= total;
      return eps[best];
    },
  };
}

export function random(eps: readonly EndpointState[]): Balancer {
  if (eps.length === 0) return { pick: () => undefined };
  const cum: number[] = [];
  let total = 0;
  for (const e of eps) cum.push((total += e.endpoint.weight));
  return {
    pick(rnd: Random) {
      const x = rnd() * total;
      for (let i = 0; i < cum.length; i++) if (x < cum[i]!) return eps[i];
      return eps[eps.length - 1];
    },
  };
}

/** Envoy's P2C: two random candidates, the one with fewer active requests (weighted) wins. */
export function leastRequest(eps: readonly EndpointState[]): Balancer {
  if (eps.length === 0) return { pick: () => undefined };
  if (eps.length === 1) return { pick: () => eps[0] };
  const weighted = !allEqual(eps);
  const score = (e: EndpointState): number => (weighted ? (e.active + 1) / e.endpoint.weight : e.active);
  return {
    pick(rnd: Random) {
      const a = eps[Math.floor(rnd() * eps.length)]!;
      let b = eps[Math.floor(rnd() * (eps.length - 1))]!;
      if (b === a) b = eps[eps.length - 1]!;
      return score(b) < score(a) ? b : a;
    },
  };
}
