/**
 * Cluster state (circuit breaker, outlier detector, counters) belongs to the cluster's runtime
 * object: built when a snapshot is compiled, handed on to the next snapshot's runtime of the
 * same cluster, and dropped with it when the cluster goes away. 1,000 swaps that each remove
 * and add clusters must leave the heap where it was; counters of a kept cluster survive swaps
 * and `/stats` shows only the clusters of the current snapshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConfigStore } from '../../proxy/config/store.ts';
import { clusterViews, guardOf } from '../../proxy/resilience/cluster-guard.ts';
import { renderStats } from '../../proxy/resilience/stats.ts';
import { PoolRegistry } from '../../proxy/upstream/pools.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const OUTLIER = { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 };
const PER_SWAP = 20;

/** Swap `i`: one kept cluster plus PER_SWAP clusters whose names are new in this swap. */
function swap(i: number) {
  const names = ['outbound|80||kept.default.svc.cluster.local', ...Array.from({ length: PER_SWAP }, (_, k) => `outbound|80||s${i}-${k}.default.svc.cluster.local`)];
  const clusters = names.map((n) => {
    const c = cluster(n, [{ address: '127.0.87.1', port: 8000 + (i % 50) }, { address: '127.0.87.2', port: 8000 }]);
    c.cluster.outlierDetection = { ...OUTLIER };
    return c;
  });
  const vhosts = names.map((n, k) => ({ domains: [`h${k}`], routes: [route(`r${k}`, [], forward(n))] }));
  return snapshot(`v${i}`, { listeners: [listener(80, { routeTable: 't' })], tables: [table('t', vhosts)], clusters });
}

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('1,000 snapshot swaps adding and removing clusters keep the heap flat; a kept cluster keeps its counters', () => {
  const store = new ConfigStore({ current: undefined, random: () => 0.5, onError: () => undefined }, { pools: new PoolRegistry(), random: () => 0.5, appHost: '127.0.0.1', inboundSource: undefined });
  const apply = (i: number): void => assert.deepEqual(store.apply(swap(i)), { ok: true, version: `v${i}` });
  for (let i = 0; i < 100; i++) apply(i);
  const kept = () => store.state.current!.clusters.get('outbound|80||kept.default.svc.cluster.local')!;
  guardOf(kept())!.stats.upstream_rq_total = 7;
  const before = heapAfterGc();
  for (let i = 100; i < 1100; i++) apply(i);
  const grown = heapAfterGc() - before;
  // 20,000 clusters came and went; each kept alive would cost kilobytes (runtime, endpoints,
  // detector, counters): tens of MB. Flat means within what a few snapshots take.
  assert.ok(grown < 3 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MB over 1,000 swaps`);
  assert.equal(guardOf(kept())!.stats.upstream_rq_total, 7, 'a kept cluster carries its counters across swaps');
  const stats = renderStats(clusterViews(store.state.current!.clusters.values()));
  assert.match(stats, /cluster\.outbound\|80\|\|s1099-0\.default\.svc\.cluster\.local\.upstream_rq_total: 0/);
  assert.doesNotMatch(stats, /s1098-/, '/stats shows only the clusters of the current snapshot');
});
