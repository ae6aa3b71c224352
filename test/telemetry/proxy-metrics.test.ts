/**
 * Real proxy processes carrying real traffic: Istio's metrics with full labels on both
 * reporters (peer metadata exchanged and stripped), per-cluster upstream stats, process
 * metrics, and no unbounded labels.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { callInbound, sample, scrape, startMesh, type Mesh } from './harness/mesh.ts';

let mesh: Mesh;
const N = 20;

before(async () => {
  mesh = await startMesh([
    { service: 'frontend', version: 'v1', calls: ['reviews', 'ratings'] },
    { service: 'reviews', version: 'v2', calls: [] },
    { service: 'ratings', version: 'v1', calls: [], status: 500 },
  ], { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } }, 1);
  for (let i = 0; i < N; i++) {
    const r = await callInbound(mesh.byService('frontend'), `/product/${i}?u=${i}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-meshlet-peer'], undefined, 'peer metadata never reaches the client app');
  }
});

after(async () => mesh?.stop());

test('source reporter: frontend → reviews and → ratings with destination labels from the exchanged metadata', async () => {
  const t = await scrape(mesh.byService('frontend'));
  const base = { reporter: 'source', source_workload: 'frontend-v1', source_app: 'frontend', source_version: 'v1', source_workload_namespace: 'default' };
  assert.equal(sample(t, 'istio_requests_total', { ...base, destination_workload: 'reviews-v2', destination_version: 'v2', destination_app: 'reviews', destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews', destination_service_namespace: 'default', response_code: '200', response_flags: '-', request_protocol: 'http', connection_security_policy: 'unknown' }), N);
  assert.equal(sample(t, 'istio_requests_total', { ...base, destination_workload: 'ratings-v1', response_code: '500' }), N);
  assert.equal(sample(t, 'istio_request_duration_milliseconds_count', { ...base, destination_workload: 'reviews-v2' }), N);
  assert.equal(sample(t, 'istio_request_duration_milliseconds_bucket', { ...base, destination_workload: 'reviews-v2', le: '+Inf' }), N);
  assert.ok(sample(t, 'istio_response_bytes_sum', { ...base, destination_workload: 'reviews-v2' }) >= N * 'reviews \n'.length);
  // Inbound from outside the mesh: destination reporter, unknown source.
  assert.equal(sample(t, 'istio_requests_total', { reporter: 'destination', source_workload: 'unknown', destination_workload: 'frontend-v1', destination_service: 'frontend.default.svc.cluster.local', response_code: '200' }), N);
  assert.equal(sample(t, 'envoy_cluster_upstream_rq_total', { cluster_name: 'outbound|8080||reviews.default.svc.cluster.local' }), N);
  assert.equal(sample(t, 'envoy_cluster_upstream_rq_xx', { cluster_name: 'outbound|8080||ratings.default.svc.cluster.local', envoy_response_code_class: '5' }), N);
  assert.ok(sample(t, 'process_resident_memory_bytes') > 0, 'the proxy exports its own memory');
  assert.ok(t.includes('process_cpu_seconds_total'), 'and its CPU');
  assert.ok(t.includes('le="0.5"') && t.includes('le="3600000"'), "Istio's default buckets");
  for (const bad of ['/product/', 'u=', '127.0.12.', 'path=']) assert.ok(!t.includes(bad), `no unbounded label value like ${bad}`);
});

test('destination reporter: reviews and ratings see frontend as source; the app never sees the peer header', async () => {
  const t = await scrape(mesh.byService('reviews'));
  assert.equal(sample(t, 'istio_requests_total', { reporter: 'destination', source_workload: 'frontend-v1', source_app: 'frontend', source_version: 'v1', destination_workload: 'reviews-v2', destination_app: 'reviews', destination_service_name: 'reviews', response_code: '200', connection_security_policy: 'none' }), N);
  const r = await scrape(mesh.byService('ratings'));
  assert.equal(sample(r, 'istio_requests_total', { reporter: 'destination', source_workload: 'frontend-v1', destination_workload: 'ratings-v1', response_code: '500' }), N);
  assert.equal(mesh.seen.get('reviews')?.['x-meshlet-peer'], undefined);
  assert.ok(typeof mesh.seen.get('reviews')?.['x-request-id'] === 'string', 'x-request-id propagated to the app');
});

test('HTTP/2 (h2c) downstream requests are counted and traced like HTTP/1.1', async () => {
  const { connect } = await import('node:http2');
  const fe = mesh.byService('frontend');
  const before = sample(await scrape(fe), 'istio_requests_total', { reporter: 'destination', destination_workload: 'frontend-v1', response_code: '200' });
  const session = connect(`http://${fe.proxyIp}:15006`);
  try {
    for (let i = 0; i < 3; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const s = session.request({ ':path': '/h2', ':authority': 'frontend:8080' });
        let code = 0;
        s.on('response', (h) => (code = Number(h[':status'])));
        s.on('data', () => undefined);
        s.on('end', () => resolve(code));
        s.on('error', reject);
        s.end();
      });
      assert.equal(status, 200);
    }
  } finally {
    session.close();
  }
  const after = sample(await scrape(fe), 'istio_requests_total', { reporter: 'destination', destination_workload: 'frontend-v1', response_code: '200' });
  assert.equal(after - before, 3);
});
