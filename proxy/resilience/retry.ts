/**
 * Retries (VirtualService `retries`), Envoy's router semantics: a retriable response or
 * failure is held back (never reaches the client) and the request runs down to the terminal
 * again after a fully jittered exponential backoff, preferring a host no earlier attempt
 * used. `perTryTimeout` bounds each attempt. A retry needs a replayable body (buffered up to
 * 1 MiB) and a slot of the cluster's maxRetries circuit (else flag UO). When retries run
 * out on a retriable outcome the response carries flag URX.
 */
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { Feature, Handler, Headers, ProxyFailure, RequestContext, ResponseSink, Resumable } from '../chain/types.ts';
import { hasBody } from '../upstream/forward.ts';
import { announceAbort, isCancelled, setTried, type Abortable, type AbortableSink, type Tried } from './attempt-state.ts';
import { BodyTape } from './body-tape.ts';
import type { Clock, TimerHandle } from '../../common/clock.ts';
import { addFlag } from '../chain/flags.ts';
import { guardOf } from './cluster-guard.ts';
import { backoffMs, compileRetry, retriableFailure, retriablePerTryTimeout, retriableResponse, type CompiledRetry } from './retry-policy.ts';
import type { ClusterStats } from './stats.ts';

/** Error codes of aborts the retry makes itself (the cluster guard reads them). */
export const ABANDONED_CODE = 'ERR_ATTEMPT_ABANDONED';
export const PER_TRY_TIMEOUT_CODE = 'ERR_PER_TRY_TIMEOUT';
const UT: ProxyFailure = { flag: 'UT', code: 'MESHLET_PROXY_UPSTREAM_TIMEOUT', status: 504 };

type Verdict = 'retry' | 'exhausted' | 'overflow' | 'no';

class Attempt implements AbortableSink {
  readonly run: RetryRun;
  upstream: Abortable | undefined;
  stale = false;
  /** The run chose this attempt's response: it streams straight to the outer sink. */
  committed = false;
  timer: TimerHandle | undefined;
  constructor(run: RetryRun) {
    this.run = run;
  }
  onUpstream(handle: Abortable): void {
    this.upstream = handle;
  }
  start(status: number, headers: Headers): void {
    if (!this.stale && !this.committed) this.run.onStart(this, status, headers);
  }
  data(chunk: Buffer, source: Resumable): boolean {
    return this.stale ? true : this.run.outer.data(chunk, source);
  }
  end(trailers: Headers | undefined): void {
    if (this.stale) return;
    if (!this.committed) this.run.settle(this);
    this.run.outer.end(trailers);
  }
  fail(f: ProxyFailure, started: boolean): void {
    if (this.stale) return;
    if (this.committed) this.run.outer.fail(f, started);
    else this.run.onFail(this, f, started);
  }
}

class RetryRun {
  readonly outer: ResponseSink;
  private readonly ctx: RequestContext;
  private readonly next: Handler;
  private readonly c: CompiledRetry;
  private readonly env: RetryEnv;
  private readonly stats: ClusterStats | undefined;
  private readonly breaker: CircuitBreaker | undefined;
  /** Hosts earlier attempts used: made on the first retry (most requests never retry). */
  private tried: Tried | undefined;
  private tape: BodyTape | undefined;
  private attempts = 0;
  private current: Attempt | undefined;
  private backoff: TimerHandle | undefined;
  private holdsRetrySlot = false;
  private done = false;

  constructor(ctx: RequestContext, next: Handler, c: CompiledRetry, env: RetryEnv) {
    this.ctx = ctx;
    this.next = next;
    this.c = c;
    this.env = env;
    this.outer = ctx.sink;
    const cl = ctx.destination?.cluster;
    const g = cl === undefined ? undefined : guardOf(cl);
    this.stats = g?.stats;
    this.breaker = g?.breaker;
  }

  begin(): void {
    announceAbort(this.outer, this);
    if (this.c.retries > 0) {
      if (hasBody(this.ctx) || this.ctx.body != null) {
        const src = this.ctx.body ?? this.ctx.req;
        this.tape = new BodyTape(src, this.env.bufferLimit);
      }
    }
    this.launch();
  }

  private launch(): void {
    this.backoff = undefined;
    const ctx = this.ctx;
    if (this.done || isCancelled(ctx) || (ctx.res as { destroyed?: boolean }).destroyed === true) return this.releaseSlot();
    this.attempts++;
    const a = new Attempt(this);
    this.current = a;
    ctx.sink = a;
    ctx.endpoint = undefined;
    if (this.tape !== undefined) ctx.body = this.tape.player();
    if (this.c.perTryTimeoutMs > 0) a.timer = this.env.clock.setTimeout(() => this.perTryTimeout(a), this.c.perTryTimeoutMs);
    this.next(ctx);
  }

  private verdict(retriable: boolean): Verdict {
    if (!retriable) return 'no';
    if (this.attempts > this.c.retries || (this.tape !== undefined && !this.tape.replayable) || this.done || isCancelled(this.ctx)) {
      if (this.stats !== undefined) this.stats.upstream_rq_retry_limit_exceeded++;
      return 'exhausted';
    }
    // This run's previous retry is over: its slot goes back before asking for the next one.
    this.releaseSlot();
    if (this.breaker !== undefined && !this.breaker.tryRetry()) return 'overflow';
    this.holdsRetrySlot = this.breaker !== undefined;
    return 'retry';
  }

  private drop(a: Attempt, code: string): void {
    a.stale = true;
    if (a.timer !== undefined) this.env.clock.clearTimeout(a.timer);
    a.upstream?.abort(Object.assign(new Error(code), { code }));
  }

  private schedule(): void {
    if (this.stats !== undefined) this.stats.upstream_rq_retry++;
    // The host of the failed attempt (set by the terminal); recorded only when a retry happens.
    const ep = this.ctx.endpoint;
    const tried = (this.tried ??= { hosts: [], remote: this.c.remoteLocalities });
    if (ep !== undefined && !tried.hosts.includes(ep)) tried.hosts.push(ep);
    if (tried.hosts.length === 1) setTried(this.ctx, tried);
    const wait = backoffMs(this.c, this.attempts, this.env.random);
    this.backoff = this.env.clock.setTimeout(() => this.launch(), wait);
  }

  /** The attempt's response is final: it goes to the client. */
  settle(a: Attempt): void {
    a.stale = true; // later events of this attempt are forwarded by the caller, not re-judged
    if (a.timer !== undefined) this.env.clock.clearTimeout(a.timer);
    this.done = true;
    if (this.attempts > 1 && this.stats !== undefined) this.stats.upstream_rq_retry_success++;
    this.releaseSlot();
  }

  onStart(a: Attempt, status: number, headers: Headers): void {
    if (a.timer !== undefined) this.env.clock.clearTimeout(a.timer);
    if (this.stats !== undefined && status >= 500) this.stats.upstream_rq_5xx++;
    const v = this.verdict(retriableResponse(this.c, status, headers, this.ctx.headers));
    if (v === 'retry') {
      this.drop(a, ABANDONED_CODE);
      this.schedule();
      return;
    }
    const flag = v === 'exhausted' ? 'URX' : v === 'overflow' ? 'UO' : '';
    if (flag !== '') {
      addFlag(this.ctx, flag);
      headers['x-meshlet-flags'] = this.ctx.flags;
    }
    // From here the attempt streams straight through (data/end/fail of a committed attempt).
    this.done = true;
    this.releaseSlot();
    if (this.attempts > 1 && v === 'no' && this.stats !== undefined) this.stats.upstream_rq_retry_success++;
    a.committed = true;
    this.outer.start(status, headers);
  }

  onFail(a: Attempt, f: ProxyFailure, started: boolean): void {
    if (a.timer !== undefined) this.env.clock.clearTimeout(a.timer);
    if (this.stats !== undefined) {
      if (f.flag === 'UF') this.stats.upstream_cx_connect_fail++;
      else if (f.flag === 'UC') this.stats.upstream_rq_reset++;
    }
    const v = started ? 'no' : this.verdict(retriableFailure(this.c, f));
    if (v === 'retry') {
      a.stale = true;
      this.schedule();
      return;
    }
    this.settle(a);
    this.outer.fail(v === 'exhausted' ? { ...f, flag: `${f.flag},URX` } : v === 'overflow' ? { ...f, flag: `${f.flag},UO` } : f, started);
  }

  private perTryTimeout(a: Attempt): void {
    if (a.stale) return;
    if (this.stats !== undefined) this.stats.upstream_rq_per_try_timeout++;
    this.drop(a, PER_TRY_TIMEOUT_CODE);
    const v = this.verdict(retriablePerTryTimeout(this.c));
    if (v === 'retry') return this.schedule();
    this.done = true;
    this.releaseSlot();
    this.outer.fail(v === 'exhausted' ? { ...UT, flag: 'UT,URX' } : UT, false);
  }

  /** The route timeout ended the request: stop everything (Abortable). */
  abort(err: Error): void {
    this.done = true;
    if (this.backoff !== undefined) this.env.clock.clearTimeout(this.backoff);
    const a = this.current;
    if (a !== undefined && !a.stale) {
      a.stale = true;
      if (a.timer !== undefined) this.env.clock.clearTimeout(a.timer);
      a.upstream?.abort(err);
    }
    this.releaseSlot();
  }

  private releaseSlot(): void {
    if (!this.holdsRetrySlot) return;
    this.holdsRetrySlot = false;
    this.breaker?.retryDone();
  }
}

export interface RetryEnv {
  clock: Clock;
  random: () => number;
  /** Request body bytes kept for replay. */
  bufferLimit: number;
}

export function retryFeature(env: RetryEnv): Feature {
  return (next, rt) => {
    const c = compileRetry(rt.route.retries);
    if (c.retries === 0 && c.perTryTimeoutMs <= 0) return next;
    return (ctx) => new RetryRun(ctx, next, c, env).begin();
  };
}
