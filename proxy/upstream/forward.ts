/** The chain's terminal: pick an endpoint, forward through its undici pool, stream back. */
import type { Dispatcher } from 'undici';
import type { ClusterRuntime, Handler, ProxyFailure, RequestContext, ResponseSink, Headers } from '../chain/types.ts';
import type { EndpointState } from '../balancer/index.ts';
import { isErrorCode } from '../../common/errors.ts';
import type { Random } from '../../common/clock.ts';
import { stripResponseHopByHop } from '../http/headers.ts';
import { hash32 } from '../balancer/hash.ts';
import type { PoolRegistry } from './pools.ts';
// Resiliency seams: host choice skipping ejected/tried hosts, circuit breaker admission, abort handle.
import { admitUpstream, pickEndpoint } from '../resilience/cluster-guard.ts';
import type { AbortableSink } from '../resilience/attempt-state.ts';

const CONNECT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET_CONNECT']);

/** Maps an undici error to an Envoy flag: connect failures are UF, everything else UC. */
export function failureOf(err: Error & { code?: string }, started: boolean): ProxyFailure {
  // Mesh mTLS: a server with the wrong SPIFFE ID (or a failed handshake) is a connect failure.
  if (!started && err.code !== undefined && (err.code.startsWith('MESHLET_SECURITY_') || err.code.startsWith('ERR_TLS_') || err.code.startsWith('ERR_SSL_'))) {
    return { flag: 'UF', code: isErrorCode(err.code) ? err.code : 'MESHLET_PROXY_UPSTREAM_CONNECT', status: 503, cause: err };
  }
  if (!started && err.code !== undefined && CONNECT_CODES.has(err.code)) return { flag: 'UF', code: 'MESHLET_PROXY_UPSTREAM_CONNECT', status: 503, cause: err };
  if (err.code === 'UND_ERR_ABORTED') return { flag: 'DC', code: 'MESHLET_PROXY_UPSTREAM_RESET', status: 503, cause: err };
  return { flag: 'UC', code: 'MESHLET_PROXY_UPSTREAM_RESET', status: 503, cause: err };
}

function downstreamClosed(): Error {
  return Object.assign(new Error('downstream closed'), { code: 'UND_ERR_ABORTED' });
}

class UpstreamHandler implements Dispatcher.DispatchHandler {
  private started = false;
  // Dropped when the exchange ends (see release): a finished handler must not keep its
  // request's objects reachable, or the young generation promotes them (see ARCHITECTURE).
  private sink: ResponseSink | undefined;
  private ep: EndpointState | undefined;
  private ctx: RequestContext | undefined;
  private done = false;
  /** Set once undici starts the request; until then a downstream close only marks `gone`. */
  private controller: Dispatcher.DispatchController | undefined;
  private gone = false;
  constructor(ctx: RequestContext, ep: EndpointState) {
    this.ctx = ctx;
    this.sink = ctx.sink;
    this.ep = ep;
    // Listen from dispatch on, not from the start: a request still queued in the pool when the
    // client goes away (an HTTP/2 reset) must never be written upstream.
    ctx.res.once('close', () => {
      if (this.done) return;
      this.gone = true;
      this.controller?.abort(downstreamClosed());
    });
  }
  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.gone) {
      // undici checks for an abort right after this call and then writes nothing.
      controller.abort(downstreamClosed());
      return;
    }
    this.controller = controller;
    // Resilience seam: retry/timeout sinks get a handle to abort this upstream request.
    const sink = this.sink as AbortableSink;
    if (sink.onUpstream !== undefined) sink.onUpstream(controller);
  }
  onResponseStart(c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200 || this.done) return; // 1xx: Node answers 100-continue itself; others are dropped.
    this.started = true;
    const ctx = this.ctx!;
    try {
      const h = stripResponseHopByHop(headers as Headers);
      const cookie = ctx.setCookie;
      if (cookie !== undefined) {
        const cur = h['set-cookie'];
        h['set-cookie'] = cur === undefined ? cookie : Array.isArray(cur) ? [...cur, cookie] : [cur, cookie];
      }
      this.sink!.start(status, h);
    } catch (err) {
      // A header Node refuses to send downstream (or a feature bug): reset rather than hang.
      ctx.res.destroy();
      c.abort(err as Error);
    }
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    // The controller itself resumes after downstream backpressure: no closure per request.
    if (!this.sink!.data(chunk, c)) c.pause();
  }
  onResponseEnd(_c: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    if (this.done) return;
    const sink = this.release();
    sink.end(trailers as Headers);
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.done) return;
    const sink = this.release();
    sink.fail(failureOf(err, this.started), this.started);
  }
  /** The exchange is over: the endpoint's active count goes down and every reference goes. */
  private release(): ResponseSink {
    const sink = this.sink!;
    this.done = true;
    this.ep!.active--;
    this.sink = undefined;
    this.ctx = undefined;
    this.ep = undefined;
    this.controller = undefined;
    return sink;
  }
}

/** Whether the downstream request carries a body to stream upstream. */
export function hasBody(ctx: RequestContext): boolean {
  const req = ctx.req;
  if ('stream' in req) return !req.stream.endAfterHeaders;
  const h = req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

/** Builds the terminal handler. `random` drives the balancers (tests inject it). */
export function forwardTerminal(pools: PoolRegistry, random: Random): Handler {
  const send = (ctx: RequestContext, cl: ClusterRuntime, ep: EndpointState): void => {
    // An HTTP/2 stream reset while the request waited (chain, circuit breaker queue): not sent.
    if ('stream' in ctx.req && ctx.req.stream.destroyed) {
      ctx.sink.fail({ flag: 'DC', code: 'MESHLET_PROXY_UPSTREAM_RESET', status: 503 }, false);
      return;
    }
    ep.active++;
    const pool = pools.get(cl, ep);
    const body = ctx.body !== undefined ? ctx.body : hasBody(ctx) ? ctx.req : null;
    pool.dispatch({ path: ctx.path, method: ctx.attrs.method as Dispatcher.HttpMethod, headers: ctx.headers as Record<string, string>, body }, new UpstreamHandler(ctx, ep));
  };
  return (ctx) => {
    const base = ctx.destination!.cluster;
    const cl = base.h2Twin !== undefined && 'stream' in ctx.req ? base.h2Twin : base;
    let hash: number | undefined;
    if (cl.hashKey !== undefined) {
      const key = cl.hashKey(ctx);
      if (key !== undefined) hash = hash32(key);
    }
    // PASSTHROUGH: the original destination is the endpoint (no balancing), when known.
    const dst = cl.passthrough === undefined ? undefined : ctx.originalDst;
    const ep = dst !== undefined ? cl.passthrough!.get(dst.address, dst.port) : pickEndpoint(cl, ctx, random, hash);
    if (ep === undefined) {
      ctx.sink.fail({ flag: 'UH', code: 'MESHLET_PROXY_NO_HEALTHY_UPSTREAM', status: 503 }, false);
      return;
    }
    ctx.endpoint = ep;
    // Resilience seam: connectionPool limits (503 UO or a bounded wait) and outlier accounting.
    admitUpstream(cl, ctx, ep, send);
  };
}
