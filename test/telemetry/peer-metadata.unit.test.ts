import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerCache, decodePeer, encodePeer, metadataFor } from '../../proxy/telemetry/peer-metadata.ts';
import { httpLabels, serviceLabels, sideFromPeer, HTTP_LABELS, TCP_LABELS } from '../../proxy/telemetry/metrics-labels.ts';

test('peer metadata round-trips and falls back to unknown on garbage', () => {
  const md = metadataFor({ workload: 'reviews-v2', namespace: 'default', labels: { app: 'reviews', version: 'v2' }, spiffeId: 'spiffe://cluster.local/ns/default/sa/reviews' });
  assert.deepEqual(decodePeer(encodePeer(md)), md);
  assert.equal(decodePeer('not base64 json'), undefined);
  assert.equal(decodePeer(Buffer.from('[1]').toString('base64')), undefined);
  assert.equal(decodePeer('x'.repeat(5000)), undefined);
  const cache = new PeerCache(2);
  cache.get('a');
  cache.get('b');
  cache.get('c'); // past the cap the cache restarts instead of growing
  assert.equal(cache.get(encodePeer(md))?.w, 'reviews-v2');
});

test('labels: service split, principal only when verified, Istio label names', () => {
  assert.deepEqual(serviceLabels('reviews.default.svc.cluster.local:9080'), { host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' });
  assert.deepEqual(serviceLabels('example.com'), { host: 'example.com', name: 'example.com', namespace: 'unknown' });
  const md = { w: 'productpage-v1', n: 'default', a: 'productpage', v: 'v1', p: 'spiffe://cluster.local/ns/default/sa/pp' };
  assert.equal(sideFromPeer(md, undefined).principal, 'unknown');
  assert.equal(sideFromPeer(md, md.p).principal, md.p);
  const l = httpLabels({ reporter: 'destination', source: sideFromPeer(md, undefined), destination: sideFromPeer(md, undefined), service: serviceLabels('x.y.svc.cluster.local'), protocol: 'http', code: '200', flags: '-', grpcStatus: '', mtls: true, cluster: 'Kubernetes' });
  assert.deepEqual(Object.keys(l), [...HTTP_LABELS]);
  assert.equal(l.connection_security_policy, 'mutual_tls');
  assert.ok(TCP_LABELS.includes('security_policy'));
  assert.ok(!TCP_LABELS.includes('response_code' as never));
  for (const banned of ['path', 'request_path', 'pod_ip', 'trace_id']) assert.ok(!(HTTP_LABELS as readonly string[]).includes(banned));
});
