/**
 * The route timeout (VirtualService `timeout`), Envoy's semantics:
 * - it covers the complete upstream response, all retries included, and starts once the
 *   downstream request is complete (end of stream) — so a request stream the client keeps
 *   open (gRPC client/bidi streaming) is not timed; an Upgrade (WebSocket) is timed only
 *   until its 101, never after;
 * - expiry before the response headers → 504 with flag UT; after them the response can no
 *   longer change, so the downstream stream is reset (flag UT in logs/metrics), as Envoy does;
 * - 0 disables it (Istio's default).
 * Per-attempt timeouts (`perTryTimeout`) live with the retry feature.
 */
import type { Feature, Headers, ProxyFailure, RequestContext, ResponseSink, Resumable } from '../chain/types.ts';
import { hasBody } from '../upstream/forward.ts';
import { cancel, type Abortable, type AbortableSink } from './attempt-state.ts';
import type { Clock, TimerHandle } from '../../common/clock.ts';
import { guardOf } from './cluster-guard.ts';

export const ROUTE_TIMEOUT_CODE = 'ERR_ROUTE_TIMEOUT';
const UT: ProxyFailure = { flag: 'UT', code: 'MESHLET_PROXY_UPSTREAM_TIMEOUT', status: 504 };

class RouteTimer implements AbortableSink {
  private readonly ctx: RequestContext;
  private readonly outer: ResponseSink;
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private upstream: Abortable | undefined;
  private started = false;
  private finished = false;
  constructor(ctx: RequestContext, clock: Clock) {
    this.ctx = ctx;
    this.outer = ctx.sink;
    this.clock = clock;
  }
  arm(ms: number): void {
    if (this.finished) return;
    this.timer = this.clock.setTimeout(() => this.expire(), ms);
  }
  onUpstream(handle: Abortable): void {
    this.upstream = handle;
  }
  private expire(): void {
    if (this.finished) return;
    this.finished = true;
    const cl = this.ctx.destination?.cluster;
    const stats = cl === undefined ? undefined : guardOf(cl)?.stats;
    if (stats !== undefined) stats.upstream_rq_timeout++;
    cancel(this.ctx);
    this.upstream?.abort(Object.assign(new Error('route timeout'), { code: ROUTE_TIMEOUT_CODE }));
    this.outer.fail(UT, this.started);
  }
  disarm(): void {
    this.stop();
  }
  private stop(): void {
    this.finished = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }
  start(status: number, headers: Headers): void {
    if (this.finished) return;
    // 101: the connection is upgraded (WebSocket); a request timeout no longer applies.
    if (status === 101) this.stop();
    this.started = true;
    this.outer.start(status, headers);
  }
  data(chunk: Buffer, source: Resumable): boolean {
    return this.finished ? true : this.outer.data(chunk, source);
  }
  end(trailers: Headers | undefined): void {
    if (this.finished) return;
    this.stop();
    this.outer.end(trailers);
  }
  fail(f: ProxyFailure, started: boolean): void {
    if (this.finished) return;
    this.stop();
    this.outer.fail(f, started);
  }
}

export function timeoutFeature(clock: Clock): Feature {
  return (next, rt) => {
    const ms = rt.route.timeoutMs;
    if (!(ms > 0)) return next;
    return (ctx) => {
      const t = new RouteTimer(ctx, clock);
      ctx.sink = t;
      const req = ctx.req;
      if (!hasBody(ctx) || req.readableEnded) t.arm(ms);
      else req.once('end', () => t.arm(ms));
      // The client went away: the terminal aborts the upstream; only the timer is ours to stop.
      ctx.res.once('close', () => t.disarm());
      next(ctx);
    };
  };
}
