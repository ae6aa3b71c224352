/**
 * One informer per (resource, version), restarted with backoff when it stops: client-node's
 * ListWatch gives up on any error but 410. A restart relists, so objects deleted while it was
 * down go away (a relist after an apiserver restart converges). A 404 (CRD not installed, or
 * version not served) counts as zero objects, and the informer keeps retrying until it appears.
 */
import { makeInformer, type Informer, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../common/log.ts';
import type { K8sObject } from '../world/objects.ts';
import type { Clock } from '../../common/clock.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { kubeJson } from './http.ts';
import { apiVersionOf, collectionPath, resourceName, type WatchedResource } from './resources.ts';

export interface WatchSink {
  upsert(version: string, obj: K8sObject): void;
  remove(version: string, obj: K8sObject): void;
  /** The version is gone (404): it holds no objects now. */
  clear(version: string): void;
  /** A list completed: these are all the objects of the version. */
  synced(version: string, objs: K8sObject[]): void;
}

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** Retry delay while a resource is missing (404), so a CRD installed later is picked up soon. */
  missingMs?: number;
}

export class ResourceWatcher {
  private readonly kc: KubeConfig;
  private readonly res: WatchedResource;
  private readonly version: string;
  private readonly sink: WatchSink;
  private readonly timers: Clock;
  private readonly metrics: OperatorMetrics;
  private readonly log: Logger;
  private readonly backoff: Required<BackoffOptions>;
  private informer: (Informer<KubernetesObject> & { list(): readonly KubernetesObject[] }) | undefined;
  private failures = 0;
  private timer: unknown;
  private stopped = false;
  /** True once a list succeeded and no error came since. */
  healthy = false;
  missing = false;

  constructor(kc: KubeConfig, res: WatchedResource, version: string, sink: WatchSink, deps: { timers: Clock; metrics: OperatorMetrics; log: Logger; backoff?: BackoffOptions }) {
    this.kc = kc;
    this.res = res;
    this.version = version;
    this.sink = sink;
    this.timers = deps.timers;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.backoff = { baseMs: 200, maxMs: 10_000, missingMs: 2000, ...deps.backoff };
  }

  get name(): string {
    return resourceName(this.res, this.version);
  }

  private normalize(o: KubernetesObject): K8sObject {
    // Every version of a kind looks the same in the store: the apiserver converts anyway.
    return { ...(o as K8sObject), kind: this.res.kind, apiVersion: apiVersionOf(this.res, this.res.versions[0] as string) };
  }

  start(): void {
    const path = collectionPath(this.res, this.version);
    const list = async (): Promise<{ items: KubernetesObject[]; metadata: { resourceVersion?: string } }> => {
      const l = await kubeJson<{ items: KubernetesObject[]; metadata: { resourceVersion?: string } }>(this.kc, 'GET', path);
      this.failures = 0;
      this.healthy = true;
      if (this.missing) this.log.info({ resource: this.name }, `${this.name} is served now`);
      this.missing = false;
      // The list is authoritative: the sink drops what it no longer contains.
      this.sink.synced(this.version, l.items.map((i) => this.normalize(i)));
      return l;
    };
    const inf = makeInformer(this.kc, path, list as never) as unknown as NonNullable<ResourceWatcher['informer']>;
    inf.on('add', (o) => this.sink.upsert(this.version, this.normalize(o)));
    inf.on('update', (o) => this.sink.upsert(this.version, this.normalize(o)));
    inf.on('delete', (o) => this.sink.remove(this.version, this.normalize(o)));
    inf.on('error', (err) => this.onError(err));
    this.informer = inf;
    void inf.start().catch((err: unknown) => this.onError(err));
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    this.healthy = false;
    const status = (err as { statusCode?: number; code?: number }).statusCode ?? (err as { code?: number }).code;
    if (status === 404) {
      if (!this.missing) {
        this.log.info({ resource: this.name }, `${this.name} is not served (CRD not installed?); counting it as empty and retrying`);
        this.sink.clear(this.version);
      }
      this.missing = true;
      this.schedule(this.backoff.missingMs);
      return;
    }
    this.failures++;
    this.metrics.informerRestarts.inc({ resource: this.name });
    const delay = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(this.failures - 1, 20));
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.log.warn({ code: 'MESHLET_OPERATOR_INFORMER', resource: this.name, err: (err as Error).message ?? String(err), failures: this.failures, retryMs: delay }, `watch of ${this.name} failed; restarting`);
    }
    this.schedule(delay);
  }

  private schedule(delay: number): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped || this.informer === undefined) return;
      // Force a full relist on restart: the watch may have missed deletes while it was down.
      (this.informer as unknown as { resourceVersion: string }).resourceVersion = '';
      void this.informer.start().catch((e: unknown) => this.onError(e));
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    await this.informer?.stop();
  }
}
