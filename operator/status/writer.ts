/**
 * Writes the status of mesh objects, only when it differs from what the object carries
 * (one apply → one write; our own write coming back through the watch is a no-op), and
 * only while this replica leads (a Lease elects one writer; every replica serves proxies).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../common/log.ts';
import type { Store } from '../store/store.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { isMeshKind } from '../world/objects.ts';
import { kubeRequest } from '../kube/http.ts';
import { resourceOf, statusPath } from '../kube/resources.ts';
import { desiredStatus, sameStatus, type MeshStatus } from './compute.ts';

export interface StatusWriterOptions {
  kc: KubeConfig;
  store: Store;
  metrics: OperatorMetrics;
  log: Logger;
  isLeader: () => boolean;
  now?: () => Date;
  /** Served version to write through, per kind (the first healthy one). */
  versionOf: (kind: string) => string;
}

export class StatusWriter {
  private readonly o: StatusWriterOptions;
  private readonly dirty = new Set<string>();
  /** Last status written per key+generation, so a slow watch echo does not cause a second write. */
  private readonly written = new Map<string, string>();
  private running: Promise<void> | undefined;

  constructor(o: StatusWriterOptions) {
    this.o = o;
    o.store.onChange((c) => {
      for (const k of c.status) this.dirty.add(k);
      this.kick();
    });
  }

  /** Re-examines every mesh object (on becoming leader). */
  resyncAll(): void {
    for (const e of this.o.store.all()) if (isMeshKind(e.object.kind)) this.dirty.add(e.key);
    this.kick();
  }

  private kick(): void {
    if (this.running !== undefined || !this.o.isLeader()) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.dirty.size > 0 && this.o.isLeader()) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.dirty.size > 0 && this.o.isLeader()) {
      const key = this.dirty.values().next().value as string;
      this.dirty.delete(key);
      await this.writeOne(key);
    }
  }

  private async writeOne(key: string): Promise<void> {
    const e = this.o.store.get(key);
    if (e === undefined) return;
    const obj = e.object;
    const gen = obj.metadata.generation ?? 0;
    const served = { serving: e.serving, ...(e.accepted?.metadata.generation === undefined ? {} : { servedGeneration: e.accepted.metadata.generation }) };
    const want: MeshStatus = desiredStatus(gen, e.messages, obj.status, (this.o.now ?? (() => new Date()))().toISOString().replace(/\.\d+Z$/, 'Z'), served);
    if (sameStatus(obj.status, want)) {
      this.written.delete(key);
      return;
    }
    const sig = `${gen}:${JSON.stringify(want, (k, v: unknown) => (k === 'lastTransitionTime' ? undefined : v))}`;
    if (this.written.get(key) === sig) return;
    const res = resourceOf(obj.kind);
    if (res === undefined || obj.metadata.namespace === undefined) return;
    const path = statusPath(res, this.o.versionOf(obj.kind), obj.metadata.namespace, obj.metadata.name);
    try {
      // Merge patch with the uid: never writes onto a re-created object of the same name.
      const r = await kubeRequest(this.o.kc, 'PATCH', path, { metadata: { uid: obj.metadata.uid }, status: want }, 'application/merge-patch+json');
      if (r.status >= 200 && r.status < 300) {
        this.written.set(key, sig);
        this.o.metrics.statusWrites.inc({ kind: obj.kind });
      } else if (r.status !== 404 && r.status !== 409) {
        this.o.log.warn({ code: 'MESHLET_OPERATOR_STATUS_WRITE', key, status: r.status }, `status write of ${key} failed: HTTP ${r.status}`);
      }
    } catch (err) {
      this.o.log.warn({ code: 'MESHLET_OPERATOR_STATUS_WRITE', key, err: (err as Error).message }, `status write of ${key} failed`);
      this.dirty.add(key);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
