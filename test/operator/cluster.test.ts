/**
 * The operator against a real kube-apiserver, with a scripted proxy speaking the push
 * protocol: apply → route pushed and status Accepted (one status write per apply); weight
 * change → new version; change invisible to the proxy → no new version; invalid object →
 * status False and the proxy keeps its config; delete → route gone; a CRD installed late is
 * picked up; apiserver stop/start → the operator recovers and pushes the next change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { runOperator, type RunningOperator } from '../../operator/run.ts';
import { createLogger } from '../../common/log.ts';
import { ScriptedProxy, routesOf } from './helpers/proxy-client.ts';
import { BASE, DR, apply, getJson, until, vs } from './helpers/cluster-fixtures.ts';

let cluster: Cluster;
let op: RunningOperator;
let proxy: ScriptedProxy;
let dir: string;

const log = createLogger({ component: 'operator-test', level: process.env.MESHLET_TEST_LOG ?? 'warn', destination: process.stderr });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-op-cluster-'));
  // The DestinationRule CRD is left out on purpose: installed mid-test, it must be picked up.
  cluster = await startCluster({
    crds: ['crds/generated/virtualservices.networking.istio.io.yaml', 'crds/generated/peerauthentications.security.istio.io.yaml', 'crds/generated/authorizationpolicies.security.istio.io.yaml'],
    log: () => {},
  });
  await apply(cluster, BASE);
  op = await runOperator({ log, kubeconfig: cluster.kubeconfigPath, address: '127.0.0.1', pushPort: 0, monitorPort: 0, holdMs: 5000, identity: 'op-a', lease: { durationMs: 3000, renewMs: 1000, retryMs: 500 } });
  proxy = new ScriptedProxy({ url: `https://127.0.0.1:${op.pushPort}`, caPem: op.caPem, id: 'productpage-1.default' }).start();
});

after(async () => {
  await proxy?.stop();
  await op?.stop();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const split = (s: Parameters<typeof routesOf>[0]): number[] => routesOf(s).find((r) => r.vhost.startsWith('reviews.default') && r.name.startsWith('split'))?.weights ?? [];

async function statusWrites(): Promise<number> {
  const m = await op.core.metrics.statusWrites.get();
  return m.values.find((v) => v.labels.kind === 'VirtualService')?.value ?? 0;
}

async function accepted(name: string, ns = 'default'): Promise<{ status: string; reason: string; message: string; gen: number; observed: number }> {
  const o = await getJson(cluster, ['virtualservice', name, '-n', ns]);
  const st = (o.status ?? {}) as { observedGeneration?: number; conditions?: { type: string; status: string; reason: string; message: string }[] };
  const c = st.conditions?.find((x) => x.type === 'Accepted');
  return { status: c?.status ?? '', reason: c?.reason ?? '', message: c?.message ?? '', gen: (o.metadata as { generation: number }).generation, observed: st.observedGeneration ?? -1 };
}

test('proxy starts from the cluster state, with identity from its Pod', async () => {
  const s = await proxy.waitFor((x) => x.clusters.some((c) => c.service === 'reviews.default.svc.cluster.local'), 20_000, 'reviews cluster');
  assert.deepEqual(s.proxy.labels, { app: 'productpage' });
  const eps = s.endpoints.find((e) => e.name === 'outbound|9080||reviews.default.svc.cluster.local')?.endpoints.map((e) => e.address);
  assert.deepEqual(eps, ['10.20.0.1', '10.20.0.2']);
});

test('a CRD installed after start is picked up; apply VS → new version with the route, status Accepted, one status write', async () => {
  await cluster.installCRDs(['crds/generated/destinationrules.networking.istio.io.yaml']);
  await apply(cluster, DR);
  await proxy.waitFor((s) => s.clusters.some((c) => c.subset === 'v2'), 20_000, 'subset clusters from the late DestinationRule CRD');
  const before = proxy.current?.version;
  await apply(cluster, vs(80, 20));
  const s = await proxy.waitFor((x) => split(x).length === 2, 10_000, 'the 80/20 route');
  assert.notEqual(s.version, before);
  assert.deepEqual(split(s), [80, 20]);
  const st = await until(async () => {
    const a = await accepted('reviews');
    return a.status === 'True' && a.observed === a.gen ? a : undefined;
  }, 2000, 'Accepted=True with observedGeneration within 2 s');
  assert.equal(st.reason, 'Accepted');
  assert.equal(await statusWrites(), 1);
});

test('weight change → new version; status rewritten once for the new generation', async () => {
  const before = proxy.current?.version;
  await apply(cluster, vs(50, 50));
  const s = await proxy.waitFor((x) => split(x)[0] === 50, 10_000, '50/50');
  assert.notEqual(s.version, before);
  await until(async () => ((await accepted('reviews')).observed === 2 ? true : undefined), 2000, 'observedGeneration 2');
  assert.equal(await statusWrites(), 2, 'one status write per apply');
});

test('a change in a namespace the proxy cannot see gives it no new version', async () => {
  const version = proxy.current?.version;
  const received = proxy.received.length;
  const hash = op.core.world.hash;
  await apply(cluster, vs(10, 90).replace('namespace: default', 'namespace: hidden').replace('hosts: [reviews]', 'hosts: [reviews.default.svc.cluster.local]\n  exportTo: ["."]'));
  await until(() => (op.core.world.hash !== hash ? true : undefined), 10_000, 'the World to include the hidden VirtualService');
  assert.equal(op.core.proxies.states.get('productpage-1.default')?.snapshot.version, version, 'snapshot unchanged');
  assert.equal(proxy.received.length, received, 'nothing pushed');
  assert.equal(await statusWrites(), 3, 'the hidden object still gets its status');
});

test('an invalid object → status False with code, path, message; the proxy keeps its last config', async () => {
  const version = proxy.current?.version;
  // Valid for the apiserver's schema, refused by the Istio rules (RE2 syntax is not checkable in CEL).
  await apply(cluster, vs(70, 30, '\n    match: [{uri: {regex: "(unclosed"}}]'));
  const st = await until(async () => {
    const a = await accepted('reviews');
    return a.status === 'False' ? a : undefined;
  }, 2000, 'Accepted=False within 2 s');
  assert.match(st.message, /^MESHLET_[A-Z_]+: spec\.http\[0\]\.match\[0\]\.uri/);
  assert.equal(st.observed, st.gen);
  assert.equal(op.core.proxies.states.get('productpage-1.default')?.snapshot.version, version);
  assert.equal(proxy.current?.version, version);
  const metrics = await op.core.metrics.registry.metrics();
  assert.match(metrics, /meshlet_operator_invalid_objects\{kind="VirtualService"\} 1/);
});

test('delete → the route is gone', async () => {
  const r = await cluster.kubectl(['delete', 'virtualservice', 'reviews', '-n', 'default']);
  assert.equal(r.code, 0, r.stderr);
  const s = await proxy.waitFor((x) => split(x).length === 0, 10_000, 'route gone');
  const vh = s.routes.flatMap((t) => t.virtualHosts).find((v) => v.name.startsWith('reviews.default'));
  assert.equal(vh?.routes[0]?.name, 'default');
});

test('apiserver stop and start → informers restart, the next change is pushed', async () => {
  await cluster.stopApiserver();
  await until(async () => ((await op.core.metrics.informerRestarts.get()).values.some((v) => v.value > 0) ? true : undefined), 30_000, 'an informer restart');
  await cluster.startApiserver();
  await apply(cluster, vs(30, 70));
  const s = await proxy.waitFor((x) => split(x)[0] === 30, 30_000, '30/70 after the restart');
  assert.deepEqual(split(s), [30, 70]);
  const a = await until(async () => {
    const x = await accepted('reviews');
    return x.status === 'True' ? x : undefined;
  }, 10_000, 'status after restart');
  assert.equal(a.observed, a.gen);
});
