/**
 * Kubernetes mode: informers for every watched resource and version feed the store through
 * one aggregator per kind; a Lease elects the replica that writes status.
 */
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import type { OperatorCore } from '../core.ts';
import type { RunOptions } from '../run.ts';
import { WATCHED } from '../kube/resources.ts';
import { ResourceWatcher } from '../kube/watcher.ts';
import { KindAggregator } from '../kube/aggregator.ts';
import { LeaderElector } from '../status/lease.ts';
import { StatusWriter } from '../status/writer.ts';
import { realTimers } from '../store/timers.ts';
import { ROOT_NAMESPACE } from '../world/objects.ts';

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export async function startKubeSources(core: OperatorCore, opts: RunOptions): Promise<() => Promise<void>> {
  const kc = loadKubeConfig(opts.kubeconfig);
  const timers = opts.timers ?? realTimers;
  const watchers: ResourceWatcher[] = [];
  for (const res of WATCHED) {
    const agg = new KindAggregator(res.kind, res.versions, core.store, core.metrics);
    for (const v of res.versions) watchers.push(new ResourceWatcher(kc, res, v, agg, { timers, metrics: core.metrics, log: core.log }));
  }
  for (const w of watchers) w.start();
  const versionOf = (kind: string): string => {
    const res = WATCHED.find((r) => r.kind === kind);
    const healthy = watchers.find((w) => w.name.startsWith(`${res?.plural}.`) && w.healthy);
    return healthy?.name.split('/')[1] ?? res?.versions[0] ?? 'v1';
  };
  let elector: LeaderElector | undefined;
  if (opts.noStatus !== true) {
    elector = new LeaderElector({
      kc,
      namespace: ROOT_NAMESPACE,
      name: 'meshlet-operator-status',
      identity: opts.identity ?? `${hostname()}-${process.pid}`,
      timers,
      log: core.log,
      ...(opts.lease?.durationMs === undefined ? {} : { durationMs: opts.lease.durationMs }),
      ...(opts.lease?.renewMs === undefined ? {} : { renewMs: opts.lease.renewMs }),
      ...(opts.lease?.retryMs === undefined ? {} : { retryMs: opts.lease.retryMs }),
    });
    const el = elector;
    const writer = new StatusWriter({ kc, store: core.store, metrics: core.metrics, log: core.log, isLeader: () => el.isLeader(), versionOf });
    el.onChange((leading) => {
      if (leading) writer.resyncAll();
    });
    el.start();
  }
  return async () => {
    await elector?.stop();
    await Promise.all(watchers.map((w) => w.stop()));
  };
}
