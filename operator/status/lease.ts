/**
 * Lease-based leader election (coordination.k8s.io/v1), like client-go's: the holder
 * renews; others take over once they have seen no renewal for a whole lease duration,
 * measured on their own clock (so clock skew between replicas does not matter).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../common/log.ts';
import type { Clock } from '../../common/clock.ts';
import { kubeRequest } from '../kube/http.ts';

export interface LeaseOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  timers: Clock;
  log: Logger;
  durationMs?: number;
  renewMs?: number;
  retryMs?: number;
}

interface LeaseObj {
  metadata: { resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string; leaseTransitions?: number };
}

function microTime(d: number): string {
  return new Date(d).toISOString().replace('Z', '000Z');
}

export class LeaderElector {
  private readonly o: Required<LeaseOptions>;
  private leading = false;
  private lastRenew = 0;
  private observed: { key: string; at: number } | undefined;
  private timer: unknown;
  private stopped = false;
  private readonly listeners: ((leading: boolean) => void)[] = [];

  constructor(o: LeaseOptions) {
    this.o = { durationMs: 15_000, renewMs: 5_000, retryMs: 2_000, ...o };
  }

  onChange(fn: (leading: boolean) => void): void {
    this.listeners.push(fn);
  }

  isLeader(): boolean {
    return this.leading && this.o.timers.now() - this.lastRenew < this.o.durationMs;
  }

  start(): void {
    void this.tick();
  }

  private set(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.o.log.info({ lease: this.o.name, identity: this.o.identity, leading }, leading ? 'became status leader' : 'lost status leadership');
    for (const l of this.listeners) l(leading);
  }

  private path(name = true): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases${name ? `/${this.o.name}` : ''}`;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.attempt();
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'lease attempt failed');
    }
    if (!this.isLeader()) this.set(false);
    if (this.stopped) return;
    this.timer = this.o.timers.setTimeout(() => void this.tick(), this.leading ? this.o.renewMs : this.o.retryMs);
  }

  private spec(now: number, transitions: number, acquire: string | undefined): LeaseObj['spec'] {
    return { holderIdentity: this.o.identity, leaseDurationSeconds: Math.ceil(this.o.durationMs / 1000), renewTime: microTime(now), acquireTime: acquire ?? microTime(now), leaseTransitions: transitions };
  }

  private async attempt(): Promise<void> {
    const now = this.o.timers.now();
    const got = await kubeRequest(this.o.kc, 'GET', this.path());
    if (got.status === 404) {
      const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: this.spec(now, 0, undefined) };
      const r = await kubeRequest(this.o.kc, 'POST', this.path(false), body);
      if (r.status === 201 || r.status === 200) this.renewed(now);
      return;
    }
    if (got.status !== 200) return;
    const lease = got.body as LeaseObj;
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${spec.renewTime ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, at: now };
    const expired = holder === '' || now - this.observed.at >= (spec.leaseDurationSeconds ?? 15) * 1000;
    if (holder !== this.o.identity && !expired) return;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === this.o.identity ? 0 : 1);
    const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace, resourceVersion: lease.metadata.resourceVersion }, spec: this.spec(now, transitions, holder === this.o.identity ? spec.acquireTime : undefined) };
    const r = await kubeRequest(this.o.kc, 'PUT', this.path(), body);
    if (r.status === 200) this.renewed(now);
  }

  private renewed(now: number): void {
    this.lastRenew = now;
    this.set(true);
  }

  /** Stops; a leader releases the lease so another replica takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    if (!this.isLeader()) return;
    this.set(false);
    try {
      const got = await kubeRequest(this.o.kc, 'GET', this.path());
      const lease = got.body as LeaseObj;
      if (got.status === 200 && lease.spec?.holderIdentity === this.o.identity) {
        await kubeRequest(this.o.kc, 'PUT', this.path(), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace, resourceVersion: lease.metadata.resourceVersion }, spec: { ...lease.spec, holderIdentity: '' } });
      }
    } catch {
      // best effort: the lease expires anyway
    }
  }
}
