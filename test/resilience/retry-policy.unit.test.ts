/** Pure retry policy: what each retryOn token retries, and Envoy's jittered backoff bounds. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, compileRetry, retriableFailure, retriablePerTryTimeout, retriableResponse } from '../../proxy/resilience/retry-policy.ts';
import type { ProxyFailure } from '../../proxy/chain/types.ts';

const pol = (retryOn: string[], attempts = 2) => compileRetry({ attempts, perTryTimeoutMs: 0, retryOn, retryRemoteLocalities: false, backoffBaseMs: 25 });
const UF: ProxyFailure = { flag: 'UF', code: 'MESHLET_PROXY_UPSTREAM_CONNECT', status: 503 };
const UC: ProxyFailure = { flag: 'UC', code: 'MESHLET_PROXY_UPSTREAM_RESET', status: 503 };

describe('retry policy (pure)', () => {
  it('5xx retries any 5xx, resets and connect failures, not 4xx', () => {
    const c = pol(['5xx']);
    for (const s of [500, 502, 503, 504, 599]) assert.equal(retriableResponse(c, s, {}, {}), true, String(s));
    assert.equal(retriableResponse(c, 404, {}, {}), false);
    assert.equal(retriableResponse(c, 200, {}, {}), false);
    assert.equal(retriableFailure(c, UF), true);
    assert.equal(retriableFailure(c, UC), true);
    assert.equal(retriablePerTryTimeout(c), true);
  });
  it('gateway-error only 502/503/504', () => {
    const c = pol(['gateway-error']);
    assert.equal(retriableResponse(c, 500, {}, {}), false);
    for (const s of [502, 503, 504]) assert.equal(retriableResponse(c, s, {}, {}), true);
  });
  it('connect-failure and reset are distinct', () => {
    const cf = pol(['connect-failure']);
    assert.equal(retriableFailure(cf, UF), true);
    assert.equal(retriableFailure(cf, UC), false);
    assert.equal(retriableResponse(cf, 503, {}, {}), false);
    assert.equal(retriablePerTryTimeout(cf), false);
    const rs = pol(['reset']);
    assert.equal(retriableFailure(rs, UC), true);
    assert.equal(retriableFailure(rs, { flag: 'UO', code: 'MESHLET_PROXY_UPSTREAM_OVERFLOW', status: 503 }), false, 'overflow is never retried');
  });
  it('refused-stream matches an HTTP/2 REFUSED_STREAM reset only', () => {
    const c = pol(['refused-stream']);
    assert.equal(retriableFailure(c, { ...UC, cause: new Error('stream reset: REFUSED_STREAM') }), true);
    assert.equal(retriableFailure(c, UC), false);
  });
  it('retriable-4xx is 409; bare codes are retriable status codes (Istio default 503)', () => {
    assert.equal(retriableResponse(pol(['retriable-4xx']), 409, {}, {}), true);
    assert.equal(retriableResponse(pol(['retriable-4xx']), 400, {}, {}), false);
    const d = pol(['connect-failure', 'refused-stream', 'unavailable', 'cancelled', '503']);
    assert.equal(retriableResponse(d, 503, {}, {}), true);
    assert.equal(retriableResponse(d, 500, {}, {}), false);
    assert.equal(retriableResponse(pol([]), 418, {}, { 'x-envoy-retriable-status-codes': '418,419' }), true);
  });
  it('gRPC tokens read grpc-status from the response headers', () => {
    const c = pol(['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);
    for (const g of ['1', '4', '8', '13', '14']) assert.equal(retriableResponse(c, 200, { 'grpc-status': g }, {}), true, g);
    assert.equal(retriableResponse(c, 200, { 'grpc-status': '5' }, {}), false);
    assert.equal(retriableResponse(c, 200, {}, {}), false);
  });
  it('retriable-headers uses the request header naming response headers', () => {
    const c = pol(['retriable-headers']);
    assert.equal(retriableResponse(c, 200, { 'x-retry-me': '1' }, { 'x-envoy-retriable-header-names': 'X-Retry-Me' }), true);
    assert.equal(retriableResponse(c, 200, {}, { 'x-envoy-retriable-header-names': 'X-Retry-Me' }), false);
  });
  it('backoff is fully jittered: retry n waits in [0, min(25·2^(n-1), 250)) ms', () => {
    const c = pol(['5xx'], 10);
    const ceilings = [25, 50, 100, 200, 250, 250];
    ceilings.forEach((ceil, i) => {
      assert.equal(backoffMs(c, i + 1, () => 0), 0);
      assert.equal(backoffMs(c, i + 1, () => 0.999999), ceil - 1);
      assert.equal(backoffMs(c, i + 1, () => 0.5), Math.floor(ceil / 2));
    });
  });
});
