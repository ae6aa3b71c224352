/**
 * The resilience state of one ClusterRuntime (built once per snapshot): circuit breaker,
 * outlier detector, counters. Three seams reach it: `attachResilience` (clusters.ts, at
 * compile time), `pickEndpoint` and `admitUpstream` (the forward terminal, per request).
 * The state lives on the runtime object itself, not in a module-level map: what a snapshot
 * swap carries over (ejections, counters) is handed from the previous runtime of the same
 * cluster, and a cluster that goes away is dropped with its runtime.
 */
import type { Balancer, EndpointState } from '../balancer/index.ts';
import type { Random } from '../../common/clock.ts';
import type { ClusterRuntime, Headers, ProxyFailure, RequestContext, ResponseSink, Resumable } from '../chain/types.ts';
import { announceAbort, isCancelled, triedOf, type Abortable, type AbortableSink } from './attempt-state.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import type { Clock } from '../../common/clock.ts';
import { realClock } from './clock.ts';
import { OutlierDetector, type Outcome } from './outlier.ts';
import { newClusterStats, type ClusterStats, type ClusterView } from './stats.ts';

export interface ClusterGuard {
  breaker: CircuitBreaker;
  detector: OutlierDetector<EndpointState> | undefined;
  stats: ClusterStats;
  /** Whether the terminal must wrap the sink (limits or outlier detection configured). */
  active: boolean;
}

/** A runtime with its guard, set once by `attachResilience`. */
type Guarded = ClusterRuntime & { resilience?: ClusterGuard };

const clock: Clock = realClock;

export function guardOf(cl: ClusterRuntime): ClusterGuard | undefined {
  return (cl as Guarded).resilience;
}

/**
 * Compile time: builds the guard and, with outlier detection, rebuilds the balancer over the
 * hosts not ejected. `previous` is the same cluster's runtime in the snapshot being replaced
 * (its counters and, with the same settings, its ejections carry over); `stats` is given
 * when another runtime of the cluster (the HTTP/2 twin's sibling) already owns the counters.
 */
export function attachResilience(cl: ClusterRuntime, rebuild: (eps: EndpointState[]) => Balancer, previous?: ClusterRuntime, shared?: ClusterStats): void {
  const prev = previous === undefined ? undefined : guardOf(previous);
  const stats = shared ?? prev?.stats ?? newClusterStats();
  const breaker = new CircuitBreaker(cl.cluster.connectionPool, cl.h2, stats);
  const od = cl.cluster.outlierDetection;
  const enabled = od !== undefined && (od.consecutive5xxErrors > 0 || od.consecutiveGatewayErrors > 0 || od.consecutiveLocalOriginFailures > 0);
  const detector = enabled ? new OutlierDetector(od, cl.endpoints, clock, stats) : undefined;
  if (detector !== undefined) {
    // A new snapshot rebuilds every cluster: keep the ejections of the one it replaces.
    const before = prev?.detector;
    if (before !== undefined && before.sameConfig(od!)) detector.adopt(before, (e) => e.key);
    detector.onChange = () => {
      cl.balancer = rebuild(detector.available().hosts);
    };
    if (detector.ejectedCount > 0) detector.onChange();
  }
  (cl as Guarded).resilience = { breaker, detector, stats, active: breaker.limited || detector !== undefined };
}

/** The admin views' picture of the clusters of the current snapshot (twins share the counters). */
export function clusterViews(clusters: Iterable<ClusterRuntime>): ClusterView[] {
  const views: ClusterView[] = [];
  for (const cl of clusters) {
    const g = guardOf(cl);
    if (g === undefined) continue;
    const runtimes = cl.h2Twin === undefined ? [cl] : [cl, cl.h2Twin];
    views.push({ name: cl.cluster.name, stats: g.stats, hosts: () => runtimes.flatMap(hostLines) });
  }
  return views;
}

function hostLines(cl: ClusterRuntime): string[] {
  const detector = guardOf(cl)?.detector;
  if (detector === undefined) return [];
  return cl.endpoints.map((e) => {
    const s = detector.hostState(e);
    return `${e.key}::health_flags::${s?.ejected === true ? '/failed_outlier_check' : 'healthy'}::ejections::${s?.ejections ?? 0}::rq_active::${e.active}`;
  });
}

/**
 * Picks an endpoint. On a retry, hosts earlier attempts used are avoided (Envoy's
 * previous_hosts predicate): a few fresh picks, then any other eligible host — in the same
 * locality unless `retryRemoteLocalities` lets the retry leave it.
 */
export function pickEndpoint(cl: ClusterRuntime, ctx: RequestContext, random: Random, hash: number | undefined): EndpointState | undefined {
  const g = guardOf(cl);
  g?.detector?.tick();
  const t = triedOf(ctx);
  let ep = cl.balancer.pick(random, hash);
  if (t === undefined || t.hosts.length === 0 || ep === undefined || !t.hosts.includes(ep)) return ep;
  const first = ep;
  for (let i = 0; i < 4 && t.hosts.includes(ep!); i++) ep = cl.balancer.pick(random, undefined);
  if (ep !== undefined && !t.hosts.includes(ep)) return ep;
  const eligible = cl.endpoints.filter((e) => e.endpoint.healthy && !t.hosts.includes(e) && g?.detector?.isEjected(e) !== true);
  const loc = first.endpoint.locality;
  const local = eligible.filter((e) => loc === undefined || (e.endpoint.locality?.region === loc.region && e.endpoint.locality.zone === loc.zone && e.endpoint.locality.subzone === loc.subzone));
  const pool = local.length > 0 ? local : t.remote ? eligible : [];
  return pool.length > 0 ? pool[Math.floor(random() * pool.length)] : first;
}

/** Codes of aborts made by the retry/timeout features (see retry.ts, timeout.ts). */
const TIMEOUT_CODES = new Set(['ERR_PER_TRY_TIMEOUT', 'ERR_ROUTE_TIMEOUT']);

/** What a failure says about the host; undefined when it says nothing (we dropped the attempt, or the client left). */
function localOutcome(f: ProxyFailure): Outcome | undefined {
  const code = (f.cause as { code?: string } | undefined)?.code;
  if (code === 'ERR_ATTEMPT_ABANDONED' || f.flag === 'DC') return undefined;
  if (code !== undefined && TIMEOUT_CODES.has(code)) return { kind: 'local', what: 'timeout' };
  return { kind: 'local', what: f.flag === 'UF' ? 'connect' : 'reset' };
}

/** Sits between the terminal and the chain's sink: frees the slot and tells the detector. */
class GuardSink implements AbortableSink {
  private readonly inner: ResponseSink;
  private readonly g: ClusterGuard;
  private readonly ep: EndpointState;
  private done = false;
  constructor(inner: ResponseSink, g: ClusterGuard, ep: EndpointState) {
    this.inner = inner;
    this.g = g;
    this.ep = ep;
  }
  onUpstream(handle: Abortable): void {
    announceAbort(this.inner, handle);
  }
  start(status: number, headers: Headers): void {
    this.g.detector?.report(this.ep, { kind: 'status', status });
    this.inner.start(status, headers);
  }
  data(chunk: Buffer, source: Resumable): boolean {
    return this.inner.data(chunk, source);
  }
  end(trailers: Headers | undefined): void {
    this.finish();
    this.inner.end(trailers);
  }
  fail(f: ProxyFailure, started: boolean): void {
    if (!started && this.g.detector !== undefined) {
      const o = localOutcome(f);
      if (o !== undefined) this.g.detector.report(this.ep, o);
    }
    this.finish();
    this.inner.fail(f, started);
  }
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.g.breaker.release();
  }
}

const OVERFLOW: ProxyFailure = { flag: 'UO', code: 'MESHLET_PROXY_UPSTREAM_OVERFLOW', status: 503 };

/**
 * Per request, before dispatch: takes a breaker slot (or parks, or answers 503 UO at once)
 * and wraps the sink for slot release and outlier accounting. `send` dispatches for real.
 */
export function admitUpstream<C extends ClusterRuntime>(cl: C, ctx: RequestContext, ep: EndpointState, send: (ctx: RequestContext, cl: C, ep: EndpointState) => void): void {
  const g = guardOf(cl);
  if (g !== undefined) g.stats.upstream_rq_total++;
  if (g === undefined || !g.active) {
    send(ctx, cl, ep);
    return;
  }
  // A parked request is dropped when its attempt was abandoned meanwhile (per-try timeout:
  // the retry installed a new sink), the route timed out, or the client left.
  const sink = ctx.sink;
  const verdict = g.breaker.limited
    ? g.breaker.admit({ run: () => go(), live: () => ctx.sink === sink && !isCancelled(ctx) && !(ctx.res as { destroyed?: boolean }).destroyed })
    : 'go';
  function go(): void {
    ctx.sink = new GuardSink(sink, g!, ep);
    if (!g!.breaker.limited) g!.breaker.active++;
    send(ctx, cl, ep);
  }
  if (verdict === 'go') go();
  else if (verdict === 'overflow') ctx.sink.fail(OVERFLOW, false);
}
