/**
 * Translation in local mode (pure): a World built with `localMode` points every meshed
 * endpoint at its sidecar's inbound port on the workload's own address, with the
 * workload's SPIFFE identity (so the client originates auto mTLS); an endpoint without a
 * sidecar keeps its app port; without `localMode` nothing changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadLocalWorld, readDirectoryObjects } from '../../operator/sources/local-dir.ts';
import { parseProxyId, resolveProxy, translate } from '../../operator/translate/index.ts';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { buildWorld, type BuildOptions } from '../../operator/world/build.ts';

const DEMO = fileURLToPath(new URL('../../examples/demo/mesh', import.meta.url));

function frontendSnapshot(opts: BuildOptions): ProxySnapshot {
  const { world } = loadLocalWorld(DEMO, opts);
  return translate(world, resolveProxy(world, parseProxyId('frontend.default')!));
}

const reviewsV1 = (s: ProxySnapshot) => s.endpoints.find((e) => e.name === 'outbound|9080|v1|reviews.default.svc.cluster.local')?.endpoints;

test('local mode: meshed endpoints are their sidecar inbound port, with their identity', () => {
  const eps = reviewsV1(frontendSnapshot({ localMode: { inboundPort: 15006 } }));
  assert.deepEqual(eps?.map((e) => [e.address, e.port, e.identity]), [['127.0.77.21', 15006, 'spiffe://cluster.local/ns/default/sa/reviews']]);
});

test('without local mode the endpoint is the app port (unchanged), and the World hash differs', () => {
  const eps = reviewsV1(frontendSnapshot({}));
  assert.deepEqual(eps?.map((e) => [e.address, e.port]), [['127.0.77.21', 9080]]);
  assert.notEqual(loadLocalWorld(DEMO, {}).world.hash, loadLocalWorld(DEMO, { localMode: { inboundPort: 15006 } }).world.hash);
});

test('local mode leaves an endpoint without a sidecar at its app port', () => {
  // The demo's objects with ratings opted out of the mesh (no sidecar).
  const objects = readDirectoryObjects(DEMO).objects.map((o) => o.object).map((o) => (o.kind === 'WorkloadEntry' && o.metadata.name === 'ratings' ? { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, 'sidecar.meshlet.io/proxy': 'false' } } } : o));
  const world = buildWorld(objects, { localMode: { inboundPort: 15006 } });
  const snap = translate(world, resolveProxy(world, parseProxyId('reviews-v2.default')!));
  const eps = snap.endpoints.find((e) => e.name.startsWith('outbound|9080||ratings.'))?.endpoints;
  assert.deepEqual(eps?.map((e) => [e.address, e.port, e.identity]), [['127.0.77.30', 9080, undefined]]);
});
