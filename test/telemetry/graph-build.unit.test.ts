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

const l = (o: Record<string, string>): Record<string, string> => ({ source_workload_namespace: 'default', destination_workload_namespace: 'default', destination_service_namespace: 'default', ...o });
const call = (src: string, sv: string, dst: string, dv: string, extra: Record<string, string> = {}): Record<string, string> => l({
  source_workload: `${src}-${sv}`, source_app: src, source_version: sv, destination_workload: `${dst}-${dv}`, destination_app: dst, destination_version: dv,
  destination_service: `${dst}.default.svc.cluster.local`, destination_service_name: dst, ...extra,
});

test('app graph: one node per app with its versions and their share, caller view for calls, mTLS and split from the servers', () => {
  const g = buildGraph([
    { labels: call('frontend', 'v1', 'reviews', 'v1', { reporter: 'source', response_code: '200' }), value: 6 },
    { labels: call('frontend', 'v1', 'reviews', 'v2', { reporter: 'source', response_code: '503', response_flags: 'URX,UF' }), value: 2 },
    { labels: call('frontend', 'v1', 'reviews', 'v1', { reporter: 'destination', response_code: '200', connection_security_policy: 'mutual_tls' }), value: 6 },
    { labels: call('frontend', 'v1', 'reviews', 'v2', { reporter: 'destination', response_code: '503', connection_security_policy: 'mutual_tls' }), value: 2 },
    { labels: l({ reporter: 'destination', source_workload: 'unknown', destination_workload: 'frontend-v1', destination_app: 'frontend', destination_version: 'v1', destination_service: 'frontend.default.svc.cluster.local', response_code: '200', connection_security_policy: 'none' }), value: 3 },
    { labels: call('reviews', 'v1', 'ratings', 'v1', { reporter: 'source', response_code: '200', source_cluster: 'Kubernetes', destination_cluster: 'Kubernetes' }), value: 4 },
    // Calls that never reached a workload (no endpoints): the service's app, learnt from other rows.
    { labels: l({ reporter: 'source', source_workload: 'reviews-v2', source_app: 'reviews', source_version: 'v2', destination_service: 'ratings.default.svc.cluster.local', destination_service_name: 'ratings', destination_workload: 'unknown', response_code: '503', response_flags: 'UH' }), value: 1 },
    // A host outside the mesh.
    { labels: l({ reporter: 'source', source_workload: 'ratings-v1', source_app: 'ratings', source_version: 'v1', destination_service: 'api.example.com', destination_service_name: 'api.example.com', destination_service_namespace: 'unknown', destination_workload: 'unknown', response_code: '200' }), value: 1 },
  ], [
    { labels: call('frontend', 'v1', 'reviews', 'v1', { reporter: 'source', le: '10' }), value: 4 },
    { labels: call('frontend', 'v1', 'reviews', 'v1', { reporter: 'source', le: '100' }), value: 8 },
    { labels: call('frontend', 'v1', 'reviews', 'v1', { reporter: 'source', le: '+Inf' }), value: 8 },
  ]);
  assert.deepEqual(g.nodes.map((n) => `${n.id} ${n.kind} [${n.versions.map((v) => v.version).join(',')}]`), [
    'app:default/frontend app [v1]', 'app:default/ratings app [v1]', 'app:default/reviews app [v1,v2]', 'ext:api.example.com external []', 'unknown unknown []',
  ]);
  const reviews = g.nodes.find((n) => n.id === 'app:default/reviews')!;
  assert.deepEqual(reviews.versions.map((v) => [v.version, v.share]), [['v1', 0.75], ['v2', 0.25]]);
  assert.equal(reviews.health, 'failing');
  assert.equal(reviews.cluster, '', 'one cluster: not shown');
  const fe = g.edges.find((e) => e.id === 'app:default/frontend>app:default/reviews')!;
  assert.equal(fe.rps, 8);
  assert.equal(fe.successRate, 0.75);
  assert.equal(fe.health, 'failing');
  assert.equal(fe.mtls, 'full');
  assert.deepEqual(fe.codes, { 200: 6, 503: 2 });
  assert.deepEqual(fe.flags, { UF: 2, URX: 2 });
  assert.deepEqual(fe.split, { v1: 0.75, v2: 0.25 });
  assert.deepEqual(fe.services, ['reviews.default.svc.cluster.local']);
  assert.equal(fe.p50, 10);
  assert.ok(fe.p99 !== null && fe.p99 > 10 && fe.p99 <= 100);
  assert.equal(g.edges.find((e) => e.source === 'unknown')!.mtls, 'none', 'plaintext from outside');
  const rr = g.edges.find((e) => e.id === 'app:default/reviews>app:default/ratings')!;
  assert.equal(rr.rps, 5, 'calls refused before a workload still land on the app');
  assert.deepEqual(rr.flags, { UH: 1 });
  assert.equal(rr.mtls, 'unknown', 'no server-side report');
  assert.equal(g.edges.find((e) => e.target === 'ext:api.example.com')!.rps, 1);
  assert.equal(healthOf(0, 1), 'idle');
  assert.equal(healthOf(10, 0.995), 'degraded');
});

test('app graph: clusters are named once there are several', () => {
  const g = buildGraph([
    { labels: call('a', 'v1', 'b', 'v1', { reporter: 'source', response_code: '200', source_cluster: 'east', destination_cluster: 'west' }), value: 1 },
  ], []);
  assert.deepEqual(g.nodes.map((n) => `${n.name}@${n.cluster}`), ['a@east', 'b@west']);
});
