import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, healthOf } from '../../operator/ui/graph-build.ts';
import { histogramQuantile } from '../../operator/ui/quantile.ts';
import { parsePromText } from '../../operator/ui/prom-text.ts';

test('histogram_quantile matches Prometheus interpolation', () => {
  const b = [{ le: 1, value: 0 }, { le: 5, value: 50 }, { le: 10, value: 100 }, { le: Infinity, value: 100 }];
  assert.equal(histogramQuantile(0.5, b), 5);
  assert.equal(histogramQuantile(0.99, b), 5 + 5 * (49 / 50));
  assert.equal(histogramQuantile(0.99, [{ le: 1, value: 0 }, { le: Infinity, value: 10 }]), 1, '+Inf bucket answers the largest finite bound');
  assert.equal(histogramQuantile(0.99, [{ le: 1, value: 0 }, { le: Infinity, value: 0 }]), undefined);
});

test('prom text parser keeps the wanted families, labels with escapes', () => {
  const s = parsePromText('# HELP x\nistio_requests_total{a="1",b="q\\"x"} 3\nother 1\nistio_requests_total 2\n', new Set(['istio_requests_total']));
  assert.deepEqual(s, [{ name: 'istio_requests_total', labels: { a: '1', b: 'q"x' }, value: 3 }, { name: 'istio_requests_total', labels: {}, value: 2 }]);
});

test('graph: caller view for calls, server view for who served, mTLS from the destination reporter', () => {
  const base = { source_workload: 'frontend-v1', source_workload_namespace: 'default', destination_service: 'ratings.default.svc.cluster.local', destination_service_name: 'ratings', destination_service_namespace: 'default', destination_workload: 'ratings-v1', destination_workload_namespace: 'default' };
  const g = buildGraph([
    { labels: { ...base, reporter: 'source', response_code: '200', connection_security_policy: 'unknown' }, value: 3 },
    { labels: { ...base, reporter: 'source', response_code: '503', connection_security_policy: 'unknown' }, value: 1 },
    { labels: { ...base, reporter: 'destination', response_code: '200', connection_security_policy: 'mutual_tls' }, value: 3 },
    { labels: { reporter: 'destination', source_workload: 'unknown', destination_service: 'frontend.default.svc.cluster.local', destination_service_name: 'frontend', destination_workload: 'frontend-v1', destination_workload_namespace: 'default', response_code: '200' }, value: 2 },
  ], [
    { labels: { ...base, reporter: 'source', le: '10' }, value: 4 },
    { labels: { ...base, reporter: 'source', le: '+Inf' }, value: 4 },
  ]);
  const call = g.edges.find((e) => e.source === 'wl:default/frontend-v1' && e.target === 'svc:ratings.default.svc.cluster.local')!;
  assert.equal(call.rps, 4);
  assert.equal(call.successRate, 0.75);
  assert.equal(call.health, 'failing');
  assert.equal(call.mtls, true);
  assert.ok(call.p99Ms !== null && call.p99Ms <= 10);
  const served = g.edges.find((e) => e.source === 'svc:ratings.default.svc.cluster.local')!;
  assert.equal(served.target, 'wl:default/ratings-v1');
  assert.equal(served.rps, 3, 'who served: the destination view');
  const entry = g.edges.find((e) => e.source === 'unknown')!;
  assert.equal(entry.target, 'svc:frontend.default.svc.cluster.local');
  assert.equal(entry.rps, 2, 'callers outside the mesh come from the destination reporter');
  assert.deepEqual(g.nodes.map((n) => n.kind).sort(), ['service', 'service', 'unknown', 'workload', 'workload']);
  assert.equal(healthOf(0, 1), 'idle');
  assert.equal(healthOf(10, 0.995), 'degraded');
});
