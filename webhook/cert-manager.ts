/**
 * Keeps the webhook's serving certificate valid with no manual step: at start-up it adopts the
 * certificate shared by the other replicas (cert-store.ts) or issues one, writes its CA into the
 * caBundle of the webhook configurations, and issues the next one before expiry. The bundle
 * keeps the previous CA as well, so the apiserver trusts old and new while replicas swap.
 */
import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../common/clock.ts';
import { MeshletError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import type { CertStore } from './cert-store.ts';
import { issueServingCert, refreshDelayMs, type ServingCert } from '../common/security/serving-cert.ts';
import { serviceHosts, WEBHOOK_CONFIGURATION } from './constants.ts';
import type { TlsMaterial } from './server.ts';

export interface CertManagerOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** SANs of the serving certificate. Default: the `meshlet` Service names in meshlet-system. */
  hosts?: string[];
  /** MutatingWebhookConfigurations whose caBundle is written. Default: meshlet-sidecar-injector. */
  mutating?: string[];
  validating?: string[];
  /** Shared storage for replicas; without it each process has a certificate of its own. */
  store?: CertStore;
  /** Leaf lifetime; default 30 days, refreshed at two thirds. */
  validityMs?: number;
  /** Delay before retrying a failed publish or rotation. Default 10 s. */
  retryMs?: number;
  /** Called with the new key and cert after the bundle that trusts them is written. */
  onRotate?: (tls: TlsMaterial) => void;
  /** Time and timers (certificate dates, refresh and retry delays); default the wall clock. */
  clock?: Clock;
}

export class WebhookCertManager {
  private readonly opts: CertManagerOptions;
  private readonly api: AdmissionregistrationV1Api;
  private current: ServingCert | undefined;
  private previousCa: string | undefined;
  private timer: unknown;
  private stopped = false;

  constructor(opts: CertManagerOptions) {
    this.opts = opts;
    this.api = opts.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  }

  private now(): number {
    return this.clock.now();
  }

  private get clock(): Clock {
    return this.opts.clock ?? systemClock;
  }

  /** The CA bundle PEM currently published (current CA first, then the previous one). */
  bundlePem(): string {
    const cas = [this.current?.caPem, this.previousCa].filter((x): x is string => x !== undefined);
    return [...new Set(cas)].join('');
  }

  tls(): TlsMaterial {
    if (this.current === undefined) throw new Error('certificate manager not started');
    return { key: this.current.keyPem, cert: this.current.certPem };
  }

  notAfter(): Date | undefined {
    return this.current?.notAfter;
  }

  /** Obtains the first certificate and publishes it; failures past this point are retried in the background. */
  async start(): Promise<TlsMaterial> {
    try {
      await this.obtain();
    } catch (err) {
      // The shared Secret is unusable (RBAC, missing namespace): serve a certificate of our own.
      this.opts.log.error({ code: 'MESHLET_WEBHOOK_CERT', err: (err as Error).message }, 'cannot share the webhook certificate through its Secret; using one of this replica only');
      this.current = await this.issue();
    }
    try {
      await this.publish();
      this.scheduleRefresh();
    } catch (err) {
      this.fail(err);
    }
    return this.tls();
  }

  /** Rotates now (or adopts what another replica rotated to), publishes, then hands it to the server. */
  async refresh(): Promise<TlsMaterial> {
    const before = this.current?.certPem;
    await this.obtain(true);
    await this.publish();
    if (this.current?.certPem !== before) {
      this.opts.onRotate?.(this.tls());
      this.opts.log.info({ notAfter: this.current!.notAfter.toISOString() }, 'webhook serving certificate rotated');
    }
    return this.tls();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  private issue(): Promise<ServingCert> {
    return issueServingCert(this.opts.hosts ?? serviceHosts(), new Date(this.now()), this.opts.validityMs ?? 30 * 24 * 3600_000);
  }

  private due(c: ServingCert): boolean {
    return refreshDelayMs(c.notBefore, c.notAfter, this.now()) === 0;
  }

  /** Adopts the stored certificate while it is not due, else issues one and stores it (a lost race adopts the winner's). */
  private async obtain(rotating = false): Promise<void> {
    const store = this.opts.store;
    if (store === undefined) {
      const next = await this.issue();
      this.previousCa = rotating ? this.current?.caPem : undefined;
      this.current = next;
      return;
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await store.load();
      if (stored !== null && !this.due(stored.cert)) {
        this.current = stored.cert;
        this.previousCa = stored.previousCaPem;
        return;
      }
      const next = await this.issue();
      const res = await store.save(next, stored?.cert.caPem, stored?.version);
      if (res.ok) {
        this.current = next;
        this.previousCa = stored?.cert.caPem;
        return;
      }
    }
    throw new MeshletError('MESHLET_WEBHOOK_CERT', 'the shared certificate Secret kept changing under us');
  }

  private fail(err: unknown): void {
    const e = err instanceof MeshletError ? err : new MeshletError('MESHLET_WEBHOOK_CERT', (err as Error).message);
    this.opts.log.error({ code: e.code, err: e.message }, 'webhook certificate step failed; retrying');
    this.schedule(this.opts.retryMs ?? 10_000, () => this.publish());
  }

  private scheduleRefresh(): void {
    const c = this.current!;
    this.schedule(refreshDelayMs(c.notBefore, c.notAfter, this.now()), () => this.refresh().then(() => undefined));
  }

  private schedule(ms: number, step: () => Promise<void>): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      step().then(() => this.scheduleRefresh(), (err: unknown) => this.fail(err));
    }, ms);
  }

  /** Writes the bundle into every configured webhook configuration (read-modify-replace, retried on conflict). */
  async publish(): Promise<void> {
    const caBundle = Buffer.from(this.bundlePem()).toString('base64');
    for (const name of this.opts.mutating ?? [WEBHOOK_CONFIGURATION]) {
      await this.withConflictRetry(async () => {
        const cfg = await this.api.readMutatingWebhookConfiguration({ name });
        if ((cfg.webhooks ?? []).every((w) => w.clientConfig.caBundle === caBundle)) return;
        for (const w of cfg.webhooks ?? []) w.clientConfig.caBundle = caBundle;
        await this.api.replaceMutatingWebhookConfiguration({ name, body: cfg });
      }, name);
    }
    for (const name of this.opts.validating ?? []) {
      await this.withConflictRetry(async () => {
        const cfg = await this.api.readValidatingWebhookConfiguration({ name });
        if ((cfg.webhooks ?? []).every((w) => w.clientConfig.caBundle === caBundle)) return;
        for (const w of cfg.webhooks ?? []) w.clientConfig.caBundle = caBundle;
        await this.api.replaceValidatingWebhookConfiguration({ name, body: cfg });
      }, name);
    }
  }

  private async withConflictRetry(fn: () => Promise<void>, name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        return;
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === 409 && attempt < 5) continue;
        throw new MeshletError('MESHLET_WEBHOOK_CERT', `${name}: ${code === undefined ? (err as Error).message : `HTTP ${code}`}`);
      }
    }
  }
}
