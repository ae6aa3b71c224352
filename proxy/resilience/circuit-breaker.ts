/**
 * Circuit breaking (DestinationRule connectionPool) per cluster, Envoy's way: a request
 * needs a connection slot (HTTP/1.1: maxConnections, one request per connection) or a
 * stream slot (HTTP/2: http2MaxRequests); without one it may wait among at most
 * http1MaxPendingRequests, else it gets an immediate 503 with flag UO. Nothing queues
 * beyond the limits. The limits undici enforces itself (requests per connection, idle
 * timeout, concurrent streams, keepalive) are pool options. maxConnections is not an undici
 * `connections` cap: that is per endpoint (Envoy's limit is per cluster) and would queue
 * inside undici behind the breaker; with one request per HTTP/1.1 connection the breaker's
 * slot count already bounds the sockets in use.
 */
import type { ConnectionPool } from '../../common/snapshot.ts';
import type { ClusterStats } from './stats.ts';

/** Istio's "unlimited" is 2^32-1; 0 means unset (Istio's default) as well. */
export function limitOf(n: number): number {
  return n <= 0 || n >= 0xffffffff ? Infinity : n;
}

export interface Waiting {
  run(): void;
  /** False once the request was cancelled (its slot must not be taken). */
  live(): boolean;
}

export type Admission = 'go' | 'queued' | 'overflow';

export class CircuitBreaker {
  readonly maxConnections: number;
  readonly maxPending: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
  private readonly h2: boolean;
  private readonly stats: ClusterStats;
  active = 0;
  retriesActive = 0;
  private readonly pending: Waiting[] = [];

  constructor(cp: ConnectionPool, h2: boolean, stats: ClusterStats) {
    this.maxConnections = limitOf(cp.maxConnections);
    this.maxPending = limitOf(cp.http1MaxPendingRequests);
    this.maxRequests = limitOf(cp.http2MaxRequests);
    this.maxRetries = limitOf(cp.maxRetries);
    this.h2 = h2;
    this.stats = stats;
  }

  /** Whether any request limit applies (else the breaker is skipped on the hot path). */
  get limited(): boolean {
    return this.h2 ? this.maxRequests !== Infinity : this.maxConnections !== Infinity;
  }

  /** Takes a slot ('go'), parks the request ('queued', `w.run` is called later) or refuses it. */
  admit(w: Waiting): Admission {
    if (this.h2) {
      if (this.active < this.maxRequests) return this.take();
      this.stats.upstream_rq_pending_overflow++;
      return 'overflow';
    }
    if (this.active < this.maxConnections) return this.take();
    this.stats.upstream_cx_overflow++;
    if (this.pending.length < this.maxPending) {
      this.pending.push(w);
      return 'queued';
    }
    this.stats.upstream_rq_pending_overflow++;
    return 'overflow';
  }

  private take(): 'go' {
    this.active++;
    return 'go';
  }

  /** A request finished: its slot goes to the oldest live waiter. */
  release(): void {
    this.active--;
    while (this.pending.length > 0 && this.active < this.maxConnections) {
      const w = this.pending.shift()!;
      if (!w.live()) continue;
      this.active++;
      w.run();
    }
  }

  /** maxRetries: concurrent retries across the cluster. */
  tryRetry(): boolean {
    if (this.retriesActive >= this.maxRetries) {
      this.stats.upstream_rq_retry_overflow++;
      return false;
    }
    this.retriesActive++;
    return true;
  }

  retryDone(): void {
    this.retriesActive--;
  }
}

/** undici pool options for a cluster's limits (spread into the Pool options by pools.ts). */
export function poolLimitOptions(cp: ConnectionPool, h2: boolean, tls: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (h2 && cp.maxConcurrentStreams > 0 && cp.maxConcurrentStreams < 2147483647) o.maxConcurrentStreams = cp.maxConcurrentStreams;
  // idleTimeout: undici would otherwise follow the server's Keep-Alive hint (Node's default is minutes).
  if (cp.idleTimeoutMs > 0 && cp.idleTimeoutMs < 600_000) o.keepAliveMaxTimeout = cp.idleTimeoutMs;
  if (!tls && cp.tcpKeepalive !== undefined) o.connect = { keepAlive: true, keepAliveInitialDelay: cp.tcpKeepalive.timeMs };
  return o;
}
