/**
 * Envoy's retry policy as pure functions: which responses and failures are retriable under
 * a route's `retryOn`, and the fully jittered exponential backoff.
 */
import type { RetryPolicy } from '../../common/snapshot.ts';
import type { Headers, ProxyFailure } from '../chain/types.ts';

/** gRPC status codes by Envoy retry-on token. */
const GRPC: Record<string, number> = { cancelled: 1, 'deadline-exceeded': 4, 'resource-exhausted': 8, internal: 13, unavailable: 14 };

export interface CompiledRetry {
  /** Retries after the first try. */
  retries: number;
  perTryTimeoutMs: number;
  baseMs: number;
  /** Envoy caps the backoff interval at 10× the base. */
  maxMs: number;
  remoteLocalities: boolean;
  on5xx: boolean;
  onGatewayError: boolean;
  onReset: boolean;
  onConnectFailure: boolean;
  onRefusedStream: boolean;
  onRetriable4xx: boolean;
  onRetriableHeaders: boolean;
  statusCodes: Set<number>;
  grpcCodes: Set<number>;
}

export function compileRetry(p: RetryPolicy): CompiledRetry {
  const on = new Set(p.retryOn.map((t) => t.trim().toLowerCase()));
  const statusCodes = new Set<number>();
  const grpcCodes = new Set<number>();
  for (const t of on) {
    if (/^\d{3}$/.test(t)) statusCodes.add(Number(t));
    const g = GRPC[t];
    if (g !== undefined) grpcCodes.add(g);
  }
  const baseMs = p.backoffBaseMs > 0 ? p.backoffBaseMs : 25;
  return {
    retries: Math.max(0, p.attempts),
    perTryTimeoutMs: p.perTryTimeoutMs,
    baseMs,
    maxMs: baseMs * 10,
    remoteLocalities: p.retryRemoteLocalities,
    on5xx: on.has('5xx'),
    onGatewayError: on.has('gateway-error'),
    onReset: on.has('reset'),
    onConnectFailure: on.has('connect-failure'),
    onRefusedStream: on.has('refused-stream'),
    onRetriable4xx: on.has('retriable-4xx'),
    onRetriableHeaders: on.has('retriable-headers'),
    statusCodes,
    grpcCodes,
  };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Whether a response (status line + headers) should be retried. `requestHeaders` carries
 * Envoy's `x-envoy-retriable-header-names` / `x-envoy-retriable-status-codes` request headers.
 */
export function retriableResponse(c: CompiledRetry, status: number, headers: Headers, requestHeaders: Headers): boolean {
  if (c.on5xx && status >= 500) return true;
  if (c.onGatewayError && (status === 502 || status === 503 || status === 504)) return true;
  if (c.onRetriable4xx && status === 409) return true;
  if (c.statusCodes.has(status)) return true;
  const extra = first(requestHeaders['x-envoy-retriable-status-codes']);
  if (extra !== undefined && extra.split(',').some((s) => Number(s.trim()) === status)) return true;
  if (c.grpcCodes.size > 0) {
    // Envoy reads grpc-status from the response headers (trailers-only responses).
    const g = first(headers['grpc-status']);
    if (g !== undefined && c.grpcCodes.has(Number(g))) return true;
  }
  if (c.onRetriableHeaders) {
    const names = first(requestHeaders['x-envoy-retriable-header-names']);
    if (names !== undefined && names.split(',').some((n) => headers[n.trim().toLowerCase()] !== undefined)) return true;
  }
  return false;
}

/** Whether a failure before any response (connect failure, reset, refused stream) is retriable. */
export function retriableFailure(c: CompiledRetry, f: ProxyFailure): boolean {
  if (f.flag === 'UF') return c.onConnectFailure || c.on5xx || c.onGatewayError || c.onReset;
  if (f.flag === 'UC') {
    if (c.onRefusedStream && /REFUSED_STREAM|code 7\b/i.test(f.cause?.message ?? '')) return true;
    return c.onReset || c.on5xx || c.onGatewayError;
  }
  return false;
}

/** A per-try timeout counts as a 504 (Envoy retries it under 5xx and gateway-error). */
export function retriablePerTryTimeout(c: CompiledRetry): boolean {
  return c.on5xx || c.onGatewayError || c.statusCodes.has(504);
}

/**
 * Envoy's JitteredExponentialBackOffStrategy: retry n (1-based) waits a uniform random time
 * in [0, min(base × 2^(n-1), 10 × base)).
 */
export function backoffMs(c: CompiledRetry, retry: number, random: () => number): number {
  const ceiling = Math.min(c.baseMs * 2 ** Math.max(0, retry - 1), c.maxMs);
  return Math.floor(random() * ceiling);
}
