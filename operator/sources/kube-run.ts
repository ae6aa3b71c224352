/**
 * Kubernetes mode: informers for every watched resource and version feed the store through
 * one aggregator per kind; a Lease elects the replica that writes status. The core serves
 * nothing until every resource was listed once or found not served (ListReadiness).
 */
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import type { OperatorCore } from '../core.ts';
import type { Clock } from '../../common/clock.ts';
import { WATCHED, resourceName } from '../kube/resources.ts';
import { ListReadiness } from '../kube/readiness.ts';
import type { WatchSink } from '../kube/watcher.ts';
import { ResourceWatcher } from '../kube/watcher.ts';
import { KindAggregator } from '../kube/aggregator.ts';
import { LeaderElector } from '../status/lease.ts';
import { StatusWriter } from '../status/writer.ts';
import { systemClock } from '../../common/clock.ts';
import { ROOT_NAMESPACE } from '../world/objects.ts';

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** The part of `RunOptions` (run.ts) the Kubernetes sources read; run.ts passes its options whole. */
export interface KubeSourceOptions {
  kubeconfig?: string;
  timers?: Clock;
  identity?: string;
  lease?: { durationMs?: number; renewMs?: number; retryMs?: number };
  noStatus?: boolean;
}

export async function startKubeSources(core: OperatorCore, opts: KubeSourceOptions): Promise<() => Promise<void>> {
  const kc = loadKubeConfig(opts.kubeconfig);
  const timers = opts.timers ?? systemClock;
  const watchers: ResourceWatcher[] = [];
  const names = WATCHED.flatMap((res) => res.versions.map((v) => resourceName(res, v)));
  const readiness = new ListReadiness(names, (r) => {
    const note = r.missing.length === 0 ? '' : `; not served (counted as empty): ${r.missing.join(', ')}`;
    core.log.info({ missing: r.missing }, `every watched resource listed once${note}; serving config`);
    core.open();
  });
  core.gate(() => readiness.report());
  core.log.info({ pending: names }, `waiting for the first list of ${names.length} watched resources before serving config`);
  for (const res of WATCHED) {
    const agg = new KindAggregator(res.kind, res.versions, core.store, core.metrics);
    for (const v of res.versions) {
      const name = resourceName(res, v);
      // The aggregator first, so the store holds the list before readiness may open the core.
      const sink: WatchSink = {
        upsert: (ver, o) => agg.upsert(ver, o),
        remove: (ver, o) => agg.remove(ver, o),
        clear: (ver) => {
          agg.clear(ver);
          readiness.missing(name);
        },
        synced: (ver, objs) => {
          agg.synced(ver, objs);
          readiness.listed(name);
        },
      };
      watchers.push(new ResourceWatcher(kc, res, v, sink, { timers, metrics: core.metrics, log: core.log }));
    }
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
