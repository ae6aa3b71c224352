/**
 * Two operator replicas on one real apiserver: both serve proxies, a Lease elects the one
 * that writes status, and when the leader stops the other takes over status writing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { runOperator, type RunningOperator } from '../../operator/run.ts';
import { createLogger } from '../../common/log.ts';
import { ScriptedProxy, routesOf } from './helpers/proxy-client.ts';
import { BASE, DR, apply, getJson, until, vs } from './helpers/cluster-fixtures.ts';

let cluster: Cluster;
const ops: Record<string, RunningOperator> = {};
const proxies: ScriptedProxy[] = [];
const log = createLogger({ component: 'operator-test', level: 'error', destination: process.stderr });

before(async () => {
  cluster = await startCluster({ crds: ['crds/generated/all.yaml'], log: () => {} });
  await apply(cluster, BASE);
  await apply(cluster, DR);
  for (const id of ['op-a', 'op-b']) {
    ops[id] = await runOperator({ log, kubeconfig: cluster.kubeconfigPath, address: '127.0.0.1', pushPort: 0, monitorPort: 0, holdMs: 5000, identity: id, lease: { durationMs: 2000, renewMs: 500, retryMs: 300 } });
  }
});

after(async () => {
  for (const p of proxies) await p.stop();
  for (const op of Object.values(ops)) await op.stop();
  await cluster?.stop();
});

async function holder(): Promise<string> {
  const l = await getJson(cluster, ['lease', 'meshlet-operator-status', '-n', 'meshlet-system']);
  return ((l.spec ?? {}) as { holderIdentity?: string }).holderIdentity ?? '';
}

async function writes(op: RunningOperator): Promise<number> {
  return (await op.core.metrics.statusWrites.get()).values.find((v) => v.labels.kind === 'VirtualService')?.value ?? 0;
}

async function observed(): Promise<number> {
  const o = await getJson(cluster, ['virtualservice', 'reviews', '-n', 'default']);
  return ((o.status ?? {}) as { observedGeneration?: number }).observedGeneration ?? -1;
}

test('one leader writes status; both replicas serve proxies', async () => {
  const leader = await until(async () => ((await holder()).startsWith('op-') ? holder() : undefined), 15_000, 'a lease holder');
  const follower = leader === 'op-a' ? 'op-b' : 'op-a';
  await apply(cluster, vs(80, 20));
  await until(async () => ((await observed()) === 1 ? true : undefined), 5000, 'status from the leader');
  for (const id of ['op-a', 'op-b']) {
    const op = ops[id] as RunningOperator;
    const p = new ScriptedProxy({ url: `https://127.0.0.1:${op.pushPort}`, caPem: op.caPem, id: 'productpage-1.default' }).start();
    proxies.push(p);
    const s = await p.waitFor((x) => routesOf(x).some((r) => r.name === 'split'), 15_000, `route from ${id}`);
    assert.deepEqual(routesOf(s).find((r) => r.name === 'split')?.weights, [80, 20]);
  }
  assert.equal(proxies[0]?.current?.version, proxies[1]?.current?.version, 'same snapshot from both replicas');
  assert.equal(await writes(ops[leader] as RunningOperator), 1);
  assert.equal(await writes(ops[follower] as RunningOperator), 0, 'the follower never writes status');
});

test('when the leader stops, the other replica takes over status writing', async () => {
  const leader = await holder();
  const follower = leader === 'op-a' ? 'op-b' : 'op-a';
  await (ops[leader] as RunningOperator).stop();
  delete ops[leader];
  await until(async () => ((await holder()) === follower ? true : undefined), 15_000, `${follower} to take the lease`);
  await apply(cluster, vs(60, 40));
  await until(async () => ((await observed()) === 2 ? true : undefined), 5000, 'status of generation 2 from the new leader');
  assert.ok((await writes(ops[follower] as RunningOperator)) >= 1);
});
