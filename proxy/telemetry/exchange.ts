/**
 * The per-request observer: one object per request that wraps the response sink, counts
 * response bytes, handles the peer metadata response header, and on completion records the
 * metric, ends the span and writes the access log line. One allocation per request; the
 * per-route parts (bindings, span name, provenance) were resolved at compose time.
 */
import type { Span } from '@opentelemetry/api';
import type { Headers, ProxyFailure, RequestContext, ResponseSink, Resumable } from '../chain/types.ts';
import type { AccessLog } from './access-log.ts';
import type { ClusterBindings, HttpOutcome } from './metrics.ts';
import { PEER_HEADER } from './peer-metadata.ts';
import { withoutHeader } from '../http/headers.ts';
import { addFlag } from '../chain/flags.ts';
import { extractParent } from './tracing-headers.ts';
import { outboundPeerTls, type PeerTls } from './peer-tls.ts';
import type { Tracing } from './tracing.ts';

/** What the route resolved at compose time for one destination. */
export interface RouteTelemetry {
  bindings: ClusterBindings | undefined;
  clusterName: string;
  routeName: string;
  provenance: string;
  tracing: Tracing | undefined;
  accessLog: AccessLog | undefined;
  peerHeader: string;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export class Exchange implements ResponseSink {
  readonly #ctx: RequestContext;
  readonly #inner: ResponseSink;
  readonly #rt: RouteTelemetry;
  #tls: PeerTls | undefined;
  readonly #span: Span | undefined;
  readonly #requestBytes: number;
  readonly #upstreamStart: number;
  #peer: string | undefined;
  #status = 0;
  #grpc = '';
  #bytes = 0;
  #done = false;

  constructor(ctx: RequestContext, rt: RouteTelemetry, tls: PeerTls | undefined, peerIn: string | undefined, span: Span | undefined) {
    this.#ctx = ctx;
    this.#inner = ctx.sink;
    this.#rt = rt;
    this.#tls = tls;
    this.#peer = peerIn;
    this.#span = span;
    // Request bodies are streamed, not buffered: Content-Length is the size when declared.
    const cl = first(ctx.req.headers['content-length']);
    this.#requestBytes = cl === undefined ? 0 : Number(cl) || 0;
    this.#upstreamStart = performance.now();
    ctx.res.once('close', () => {
      if (!this.#done) {
        addFlag(ctx, 'DC');
        this.#finish();
      }
    });
  }

  start(status: number, headers0: Headers): void {
    let headers = headers0;
    this.#status = status;
    if (this.#rt.bindings !== undefined) {
      if (this.#ctx.direction === 'outbound') {
        const p = headers[PEER_HEADER];
        if (p !== undefined) {
          this.#peer = first(p);
          headers = withoutHeader(headers, PEER_HEADER);
        }
      } else if (this.#peer !== undefined) {
        // Answer only a sidecar that sent its own (Istio does the same): clients outside
        // the mesh would have nobody to strip it.
        headers[PEER_HEADER] = this.#rt.peerHeader;
      }
    }
    const g = headers['grpc-status'];
    if (g !== undefined) this.#grpc = first(g) ?? '';
    this.#inner.start(status, headers);
  }

  data(chunk: Buffer, source: Resumable): boolean {
    this.#bytes += chunk.length;
    return this.#inner.data(chunk, source);
  }

  end(trailers: Headers | undefined): void {
    const g = trailers?.['grpc-status'];
    if (g !== undefined) this.#grpc = first(g) ?? '';
    this.#inner.end(trailers);
    this.#finish();
  }

  fail(f: ProxyFailure, started: boolean): void {
    this.#inner.fail(f, started);
    if (!started) this.#status = f.status;
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const ctx = this.#ctx;
    const rt = this.#rt;
    const now = performance.now();
    const durationMs = now - ctx.startTime;
    const flags = ctx.flags === '' ? '-' : ctx.flags;
    const b = rt.bindings;
    const tls = this.#tls ?? (this.#tls = ctx.destination === undefined ? { mtls: false, principal: undefined } : outboundPeerTls(ctx.destination.cluster.cluster, ctx.endpoint?.endpoint));
    if (b !== undefined) {
      const ct = first(ctx.req.headers['content-type']);
      const o: HttpOutcome = { code: this.#status, flags, grpcStatus: this.#grpc, grpc: ct !== undefined && ct.startsWith('application/grpc'), peer: this.#peer, mtls: tls.mtls, durationMs, requestBytes: this.#requestBytes, responseBytes: this.#bytes };
      if (tls.principal !== undefined) o.peerPrincipal = tls.principal;
      b.http.record(o);
      if (ctx.endpoint !== undefined) b.stats.observe(now - this.#upstreamStart, this.#status);
    }
    const upstreamHost = ctx.endpoint?.key;
    if (this.#span !== undefined && rt.tracing !== undefined) {
      const e: Parameters<Tracing['end']>[1] = { status: this.#status, flags, responseBytes: this.#bytes, requestBytes: this.#requestBytes };
      if (upstreamHost !== undefined) e.upstreamHost = upstreamHost;
      rt.tracing.end(this.#span, e);
    }
    if (rt.accessLog !== undefined) {
      const h = ctx.req.headers;
      const req = ctx.req;
      rt.accessLog.write({
        start_time: new Date(performance.timeOrigin + ctx.startTime).toISOString(),
        method: ctx.attrs.method,
        path: ctx.attrs.query === '' ? ctx.attrs.path : `${ctx.attrs.path}?${ctx.attrs.query}`,
        protocol: `HTTP/${req.httpVersion}`,
        response_code: this.#status,
        response_flags: flags,
        bytes_received: this.#requestBytes,
        bytes_sent: this.#bytes,
        duration: Math.round(durationMs),
        upstream_host: upstreamHost ?? null,
        upstream_cluster: rt.clusterName,
        route_name: rt.routeName,
        route_provenance: rt.provenance,
        authority: ctx.attrs.authority,
        x_request_id: first(ctx.headers['x-request-id']) ?? null,
        trace_id: this.#span?.spanContext().traceId ?? extractParent(ctx.headers)?.traceId ?? null,
        peer_principal: tls.principal ?? null,
        downstream_remote_address: ctx.remoteAddress,
        direction: ctx.direction,
        user_agent: first(h['user-agent']) ?? null,
      });
    }
  }
}
