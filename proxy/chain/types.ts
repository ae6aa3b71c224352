/**
 * The per-route handler chain. Every proxy feature (header edits, CORS, mirror today;
 * metrics, tracing, authz, fault, timeout, retry, mTLS next) is a `Feature`: given the
 * next handler and the compiled route, it returns a handler. Features are composed ONCE
 * per route when a snapshot is applied (see compose.ts); the per-request cost is one
 * function call per feature that applies to the route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { ErrorCode } from '../../common/errors.ts';
import type { Cluster, Route, RouteMatch, WeightedCluster } from '../../common/snapshot.ts';
import type { Balancer, EndpointState } from '../balancer/index.ts';
import type { RequestAttrs } from '../routing/attrs.ts';
import type { PathRewriter } from '../routing/rewrite.ts';
import type { H1Request } from '../h1/server-request.ts';

export type DownstreamRequest = IncomingMessage | Http2ServerRequest | H1Request;
/** What the proxy uses of a node:http or node:http2 (compat) response. */
export interface DownstreamResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Headers): unknown;
  write(chunk: Buffer): boolean;
  end(): unknown;
  end(chunk: Buffer | string): unknown;
  addTrailers(trailers: Record<string, string>): void;
  destroy(err?: Error): unknown;
  once(event: 'drain' | 'close', cb: () => void): unknown;
}

/** Compile-time proof that both response kinds fit. */
export type _ResponseFits = [ServerResponse extends DownstreamResponse ? true : never, Http2ServerResponse extends DownstreamResponse ? true : never];
export type Headers = Record<string, string | string[]>;

/** Why the proxy failed a request itself: the Envoy response flag and the catalog code. */
export interface ProxyFailure {
  /** Envoy response flag: UF, UC, UH, NR, UO, UT, URX, DI, FI, RBAC... ('' for none, as a JWT 401). */
  flag: string;
  /** `MESHLET_PROXY_*` catalog code, sent as `x-meshlet-error`. */
  code: ErrorCode;
  /** HTTP status to answer with when nothing was sent yet. */
  status: number;
  /** Underlying error, for debug logs. */
  cause?: Error;
  /** Extra headers of the local reply (e.g. `www-authenticate` on a 401). */
  headers?: Headers;
}

/**
 * Where the upstream response goes. The terminal calls it; the default sink writes to the
 * downstream response. A feature that must see or hold the response (metrics, retry)
 * wraps `ctx.sink` before calling `next`.
 */
/** What a paused body source offers (an upstream request's controller): no closure per request. */
export interface Resumable {
  resume(): void;
}

export interface ResponseSink {
  /** Status line and headers (hop-by-hop already removed). */
  start(status: number, headers: Headers): void;
  /** A body chunk; returns false to ask the source to pause until `source.resume()` is called. */
  data(chunk: Buffer, source: Resumable): boolean;
  /** End of body with optional trailers (gRPC's grpc-status lives here). */
  end(trailers: Headers | undefined): void;
  /** The upstream failed; `started` tells whether `start` was already called. */
  fail(failure: ProxyFailure, started: boolean): void;
}

/** A cluster ready for traffic: endpoints with state, balancer, connection options. */
export interface ClusterRuntime {
  cluster: Cluster;
  endpoints: EndpointState[];
  balancer: Balancer;
  /** HTTP/2 (h2c, or h2 over TLS with ALPN) to the endpoints. */
  h2: boolean;
  /** The consistent-hash key of a request, when the policy hashes. */
  hashKey: ((ctx: RequestContext) => string | undefined) | undefined;
  /** Source address for upstream connections (127.0.0.6 for inbound). */
  localAddress?: string | undefined;
  /** PASSTHROUGH load balancing: forward to the original destination, not to an endpoint. */
  passthrough?: PassthroughTargets;
  /** For `auto` clusters: the HTTP/2 variant used when the downstream speaks HTTP/2. */
  h2Twin?: ClusterRuntime;
}

/** Endpoint states made on demand for PASSTHROUGH clusters, bounded. */
export interface PassthroughTargets {
  get(address: string, port: number): EndpointState;
}

/** Header edits compiled once (names lower-case). */
export interface CompiledHeaderOps {
  set: [string, string][];
  add: [string, string][];
  remove: string[];
}

/** One weighted destination, resolved. */
export interface DestinationRuntime {
  weighted: WeightedCluster;
  cluster: ClusterRuntime;
  request: CompiledHeaderOps | undefined;
  response: CompiledHeaderOps | undefined;
}

/** What every feature gets at compose time. */
export interface RouteRuntime {
  route: Route;
  /** Name of the virtual host the route belongs to. */
  virtualHost: string;
  destinations: DestinationRuntime[];
  rewritePath: PathRewriter | undefined;
  /** Shadow targets with their share of requests (0–100). */
  mirrors: { cluster: ClusterRuntime; percentage: number }[];
  /** Compiled route-level header ops. */
  requestHeaders: CompiledHeaderOps | undefined;
  responseHeaders: CompiledHeaderOps | undefined;
}

/** Per-request state handed down the chain. Built once per request; features mutate it. */
export interface RequestContext {
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  readonly attrs: RequestAttrs;
  readonly direction: 'inbound' | 'outbound';
  /** Downstream peer address. */
  readonly remoteAddress: string;
  /** `performance.now()` when the request arrived. */
  readonly startTime: number;
  /** The matched route (undefined for passthrough/inbound-without-routes). */
  route: RouteRuntime | undefined;
  /** Which RouteMatch matched (prefix rewrites need it). */
  match: RouteMatch | undefined;
  /** The chosen destination (set before the chain runs). */
  destination: DestinationRuntime | undefined;
  /** Upstream request line path (with query) and headers, edited by features. */
  path: string;
  headers: Headers;
  /** Comma-separated Envoy response flags, sent as `x-meshlet-flags` on local replies. */
  flags: string;
  /** The endpoint the terminal picked (for metrics/outlier detection). */
  endpoint: EndpointState | undefined;
  /** Where the response goes; features may wrap it. */
  sink: ResponseSink;
  /** The address the app dialled (SO_ORIGINAL_DST), when the connection was redirected. */
  originalDst?: { address: string; port: number };
  /** Set for HTTP/1.1 Upgrade (WebSocket) requests: the raw client socket and bytes read past the head. */
  upgrade?: { socket: Socket; head: Buffer };
  /** A `Set-Cookie` to add to the response (consistent-hash cookie generated by the proxy). */
  setCookie?: string;
  /** Request body to send upstream when a feature replaced it (mirror tee); else the downstream request. */
  body?: Readable | null;
}

export type Handler = (ctx: RequestContext) => void;

/** A feature: `(next) => handler`, with the compiled route available at compose time. */
export type Feature = (next: Handler, route: RouteRuntime) => Handler;
