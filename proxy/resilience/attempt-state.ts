/**
 * Per-request state shared by retry, timeout and the terminal's seams, kept off the
 * RequestContext type: which hosts earlier attempts used, and whether the request was
 * cancelled (route timeout) while it waited for a connection.
 */
import type { EndpointState } from '../balancer/index.ts';
import type { RequestContext, ResponseSink } from '../chain/types.ts';

/** What can be aborted: an undici DispatchController, or a whole retry run. No closure per request. */
export interface Abortable {
  abort(err: Error): void;
}

/** A sink that wants a handle on the work feeding it (the upstream request, or a retry run). */
export interface AbortableSink extends ResponseSink {
  onUpstream?(handle: Abortable): void;
}

/** Hands `sink` the handle of its producer, if it cares. */
export function announceAbort(sink: ResponseSink, handle: Abortable): void {
  const s = sink as AbortableSink;
  if (s.onUpstream !== undefined) s.onUpstream(handle);
}

export interface Tried {
  hosts: EndpointState[];
  /** retryRemoteLocalities: a retry may leave the best locality once it is used up. */
  remote: boolean;
}

const tried = new WeakMap<RequestContext, Tried>();
const cancelled = new WeakSet<RequestContext>();

export function triedOf(ctx: RequestContext): Tried | undefined {
  return tried.get(ctx);
}

export function setTried(ctx: RequestContext, t: Tried): void {
  tried.set(ctx, t);
}

export function cancel(ctx: RequestContext): void {
  cancelled.add(ctx);
}

export function isCancelled(ctx: RequestContext): boolean {
  return cancelled.has(ctx);
}
