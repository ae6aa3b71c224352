/**
 * Joins the informers of one kind (one per served version) into the store: an object is
 * present while any version lists it, so a version that stops being served, or that lags,
 * never flaps objects in and out.
 */
import type { K8sObject } from '../world/objects.ts';
import { objectKey } from '../world/objects.ts';
import type { Store } from '../store/store.ts';
import type { OperatorMetrics } from '../metrics.ts';
import type { WatchSink } from './watcher.ts';

export class KindAggregator implements WatchSink {
  private readonly kind: string;
  private readonly versions: string[];
  private readonly store: Store;
  private readonly metrics: OperatorMetrics;
  private readonly byVersion = new Map<string, Map<string, K8sObject>>();

  constructor(kind: string, versions: string[], store: Store, metrics: OperatorMetrics) {
    this.kind = kind;
    this.versions = versions;
    this.store = store;
    this.metrics = metrics;
    for (const v of versions) this.byVersion.set(v, new Map());
  }

  private pick(key: string): K8sObject | undefined {
    for (const v of this.versions) {
      const o = this.byVersion.get(v)?.get(key);
      if (o !== undefined) return o;
    }
    return undefined;
  }

  private push(key: string): void {
    const o = this.pick(key);
    if (o === undefined) this.store.remove(key);
    else this.store.upsert({ object: o });
  }

  upsert(version: string, obj: K8sObject): void {
    this.metrics.configEvents.inc({ type: this.kind, event: 'update' });
    const key = objectKey(obj);
    this.byVersion.get(version)?.set(key, obj);
    this.push(key);
  }

  remove(version: string, obj: K8sObject): void {
    this.metrics.configEvents.inc({ type: this.kind, event: 'delete' });
    const key = objectKey(obj);
    this.byVersion.get(version)?.delete(key);
    this.push(key);
  }

  clear(version: string): void {
    this.synced(version, []);
  }

  synced(version: string, objs: K8sObject[]): void {
    const map = this.byVersion.get(version);
    if (map === undefined) return;
    map.clear();
    for (const o of objs) map.set(objectKey(o), o);
    // One store replace for the whole relist, so a relist is a single World change.
    const prefix = `${this.kind}/`;
    const all = new Set<string>();
    for (const m of this.byVersion.values()) for (const k of m.keys()) all.add(k);
    const objects = [...all].map((k) => ({ object: this.pick(k) as K8sObject }));
    this.store.replace(objects, (k) => k.startsWith(prefix));
  }
}
