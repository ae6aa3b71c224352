import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyMetrics } from '../../proxy/telemetry/metrics.ts';
import { encodePeer } from '../../proxy/telemetry/peer-metadata.ts';
import { snapshotFor } from './harness/mesh.ts';

const snap = snapshotFor({ service: 'frontend', version: 'v1', calls: [] }, [{ spec: { service: 'reviews', version: 'v1', calls: [] }, proxyIp: '127.0.12.99' }], 0, { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } });

function outcome(over: Record<string, unknown> = {}) {
  return { code: 200, flags: '-', grpcStatus: '', peer: undefined as string | undefined, mtls: false, durationMs: 2, requestBytes: 0, responseBytes: 5, ...over };
}

test('gRPC detected per request; principals only under mTLS; endpoint workload as fallback', async () => {
  const m = new ProxyMetrics({ processMetrics: false });
  const c = snap.clusters[0]!;
  const b = m.bind(snap).forCluster(c, snap.endpoints[0]!.endpoints);
  b.http.record(outcome());
  b.http.record(outcome({ grpc: true, grpcStatus: '14' }));
  b.http.record(outcome({ mtls: true, peerPrincipal: 'spiffe://cluster.local/ns/default/sa/reviews' }));
  const t = await m.scrape();
  const lines = t.split('\n').filter((l) => l.startsWith('istio_requests_total{'));
  assert.equal(lines.length, 3);
  assert.ok(lines.some((l) => l.includes('request_protocol="grpc"') && l.includes('grpc_response_status="14"')));
  assert.ok(lines.some((l) => l.includes('request_protocol="http"') && l.includes('destination_workload="reviews-v1"')), 'fallback from the snapshot endpoint workload');
  assert.ok(lines.some((l) => l.includes('destination_principal="spiffe://cluster.local/ns/default/sa/reviews"') && l.includes('source_principal="spiffe://cluster.local/ns/default/sa/frontend"')));
  assert.ok(lines.filter((l) => !l.includes('spiffe')).every((l) => l.includes('source_principal="unknown"')));
});

test('forged peer headers cannot create unbounded series', async () => {
  const m = new ProxyMetrics({ processMetrics: false });
  const inbound = { ...snap.clusters[0]!, name: 'inbound|8080||', service: 'inbound|8080||', provenance: { kind: 'Service', namespace: 'default', name: 'frontend' } };
  const b = m.bind(snap).forCluster(inbound, []);
  for (let i = 0; i < 500; i++) b.http.record(outcome({ peer: encodePeer({ w: `w${i}`, n: 'evil' }) }));
  assert.ok(m.mesh.requests.size <= 65, `series ${m.mesh.requests.size}`);
  const t = await m.scrape();
  assert.ok(t.includes('reporter="destination"') && t.includes('destination_service="frontend.default.svc.cluster.local"'));
});
