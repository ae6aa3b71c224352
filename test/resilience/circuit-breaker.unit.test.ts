/** Circuit breaker admission (pure): slots, the bounded pending list, overflow, maxRetries. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionPool } from '../../common/snapshot.ts';
import { CircuitBreaker, limitOf, poolLimitOptions } from '../../proxy/resilience/circuit-breaker.ts';
import { newClusterStats } from '../../proxy/resilience/stats.ts';

const U32 = 4294967295;
const cp = (o: Partial<ConnectionPool>): ConnectionPool => ({ maxConnections: U32, connectTimeoutMs: 1000, http1MaxPendingRequests: U32, http2MaxRequests: U32, maxRequestsPerConnection: 0, maxRetries: U32, idleTimeoutMs: 3_600_000, maxConcurrentStreams: 2147483647, ...o });

describe('circuit breaker (pure)', () => {
  it('unset and 2^32-1 mean unlimited', () => {
    assert.equal(limitOf(0), Infinity);
    assert.equal(limitOf(U32), Infinity);
    assert.equal(limitOf(3), 3);
    assert.equal(new CircuitBreaker(cp({}), false, newClusterStats()).limited, false);
  });

  it('maxConnections 1 + pending 1: one goes, one waits, the rest overflow at once', () => {
    const stats = newClusterStats();
    const b = new CircuitBreaker(cp({ maxConnections: 1, http1MaxPendingRequests: 1 }), false, stats);
    const ran: number[] = [];
    const verdicts = Array.from({ length: 10 }, (_, i) => b.admit({ run: () => ran.push(i), live: () => true }));
    assert.deepEqual(verdicts, ['go', 'queued', ...Array(8).fill('overflow')]);
    assert.equal(stats.upstream_rq_pending_overflow, 8);
    b.release();
    assert.deepEqual(ran, [1], 'the waiter takes the freed slot');
    b.release();
    assert.equal(b.active, 0);
  });

  it('a cancelled waiter is skipped', () => {
    const b = new CircuitBreaker(cp({ maxConnections: 1, http1MaxPendingRequests: 2 }), false, newClusterStats());
    const ran: string[] = [];
    b.admit({ run: () => ran.push('first'), live: () => true });
    b.admit({ run: () => ran.push('gone'), live: () => false });
    b.admit({ run: () => ran.push('third'), live: () => true });
    b.release();
    assert.deepEqual(ran, ['third']);
  });

  it('HTTP/2: http2MaxRequests, no pending list', () => {
    const b = new CircuitBreaker(cp({ http2MaxRequests: 2, http1MaxPendingRequests: 5 }), true, newClusterStats());
    const v = [1, 2, 3].map(() => b.admit({ run: () => undefined, live: () => true }));
    assert.deepEqual(v, ['go', 'go', 'overflow']);
  });

  it('maxRetries bounds concurrent retries', () => {
    const stats = newClusterStats();
    const b = new CircuitBreaker(cp({ maxRetries: 1 }), false, stats);
    assert.equal(b.tryRetry(), true);
    assert.equal(b.tryRetry(), false);
    assert.equal(stats.upstream_rq_retry_overflow, 1);
    b.retryDone();
    assert.equal(b.tryRetry(), true);
  });

  it('pool options carry the limits undici enforces', () => {
    assert.deepEqual(poolLimitOptions(cp({}), false, false), {});
    assert.deepEqual(poolLimitOptions(cp({ maxConnections: 100, tcpKeepalive: { timeMs: 7200000, intervalMs: 75000, probes: 9 } }), false, false), { connect: { keepAlive: true, keepAliveInitialDelay: 7200000 } });
    assert.deepEqual(poolLimitOptions(cp({ maxConcurrentStreams: 10 }), true, false), { maxConcurrentStreams: 10 });
  });
});
