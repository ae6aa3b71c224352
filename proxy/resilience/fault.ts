/**
 * Fault injection (VirtualService `fault`), client side as in Istio: a delay (flag DI)
 * then, independently drawn, an abort (flag FI) — an HTTP status as a local reply, or a
 * gRPC status as HTTP 200 with a trailers-only `grpc-status`. Randomness and time are
 * injected so percentages and delays are testable without the wall clock.
 */
import type { Fault } from '../../common/snapshot.ts';
import { addFlag } from '../chain/flags.ts';
import type { Feature, RequestContext } from '../chain/types.ts';
import type { Clock } from '../../common/clock.ts';
import { guardOf } from './cluster-guard.ts';
import type { ClusterStats } from './stats.ts';

/** gRPC status names as Istio's `grpcStatus` takes them. */
const GRPC_CODES: Record<string, number> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

export function grpcCode(s: string): number {
  const n = GRPC_CODES[s.toUpperCase()];
  if (n !== undefined) return n;
  const v = Number(s);
  return Number.isInteger(v) && v >= 0 && v <= 16 ? v : 2;
}

/** Percentages are 0–100 with fractions (Istio's `percentage.value`). */
export function hit(percentage: number, random: () => number): boolean {
  return percentage >= 100 || (percentage > 0 && random() * 100 < percentage);
}


function abort(ctx: RequestContext, f: NonNullable<Fault['abort']>, stats: ClusterStats | undefined): void {
  if (stats !== undefined) stats.fault_aborts_injected++;
  if (f.grpcStatus !== undefined) {
    addFlag(ctx, 'FI');
    ctx.sink.start(200, { 'content-type': 'application/grpc', 'grpc-status': String(grpcCode(f.grpcStatus)), 'grpc-message': 'fault filter abort', 'x-meshlet-flags': ctx.flags, 'x-meshlet-error': 'MESHLET_PROXY_FAULT_ABORT' });
    ctx.sink.end(undefined);
    return;
  }
  ctx.sink.fail({ flag: 'FI', code: 'MESHLET_PROXY_FAULT_ABORT', status: f.httpStatus ?? 503 }, false);
}

export function faultFeature(random: () => number, clock: Clock): Feature {
  return (next, rt) => {
    const fault = rt.route.fault;
    if (fault === undefined || (fault.delay === undefined && fault.abort === undefined)) return next;
    const { delay, abort: ab } = fault;
    const stats = rt.destinations[0] === undefined ? undefined : guardOf(rt.destinations[0].cluster)?.stats;
    const after = (ctx: RequestContext): void => {
      if (ab !== undefined && hit(ab.percentage, random)) abort(ctx, ab, stats);
      else next(ctx);
    };
    return (ctx) => {
      if (delay === undefined || !hit(delay.percentage, random)) {
        after(ctx);
        return;
      }
      addFlag(ctx, 'DI');
      if (stats !== undefined) stats.fault_delays_injected++;
      let gone = false;
      const timer = clock.setTimeout(() => {
        if (!gone) after(ctx);
      }, delay.fixedDelayMs);
      // A client that gives up during the delay costs nothing further.
      ctx.res.once('close', () => {
        gone = true;
        clock.clearTimeout(timer);
      });
    };
  };
}
