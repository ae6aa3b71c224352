/**
 * Keeps the webhook's serving certificate valid with no manual step: issues one at start-up,
 * writes its CA into the caBundle of the webhook configurations, and issues the next one before
 * expiry. The bundle keeps the previous CA as well, so the apiserver trusts the old and the new
 * certificate while the server swaps.
 */
import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { MeshletError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { WEBHOOK_CONFIGURATION } from './constants.ts';
import { issueServingCert, refreshDelayMs, serviceHosts, type ServingCert } from './serving-cert.ts';
import type { TlsMaterial } from './server.ts';

export interface Timers {
  set: (fn: () => void, ms: number) => unknown;
  clear: (handle: unknown) => void;
}

export interface CertManagerOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** SANs of the serving certificate. Default: the `meshlet` Service names in meshlet-system. */
  hosts?: string[];
  /** MutatingWebhookConfigurations whose caBundle is written. Default: meshlet-sidecar-injector. */
  mutating?: string[];
  validating?: string[];
  /** Leaf lifetime; default 30 days, refreshed at two thirds. */
  validityMs?: number;
  /** Delay before retrying a failed publish. Default 10 s. */
  retryMs?: number;
  /** Called with the new key and cert after the bundle that trusts them is written. */
  onRotate?: (tls: TlsMaterial) => void;
  now?: () => number;
  timers?: Timers;
}

const realTimers: Timers = { set: (fn, ms) => setTimeout(fn, ms).unref(), clear: (h) => clearTimeout(h as NodeJS.Timeout) };

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
    return (this.opts.now ?? Date.now)();
  }

  private get timers(): Timers {
    return this.opts.timers ?? realTimers;
  }

  /** The CA bundle PEM currently published (new CA first, then the previous one). */
  bundlePem(): string {
    return [this.current?.caPem, this.previousCa].filter((x) => x !== undefined).join('');
  }

  tls(): TlsMaterial {
    if (this.current === undefined) throw new Error('certificate manager not started');
    return { key: this.current.keyPem, cert: this.current.certPem };
  }

  notAfter(): Date | undefined {
    return this.current?.notAfter;
  }

  /** Issues the first certificate and publishes it; publish failures are retried in the background. */
  async start(): Promise<TlsMaterial> {
    await this.issue();
    try {
      await this.publish();
      this.schedule(refreshDelayMs(this.current!.notBefore, this.current!.notAfter, this.now()));
    } catch (err) {
      this.fail(err);
    }
    return this.tls();
  }

  /** Issues a new certificate now, publishes the bundle, then hands it to the server. */
  async refresh(): Promise<TlsMaterial> {
    this.previousCa = this.current?.caPem;
    await this.issue();
    await this.publish();
    this.opts.onRotate?.(this.tls());
    this.opts.log.info({ notAfter: this.current!.notAfter.toISOString() }, 'webhook serving certificate rotated');
    return this.tls();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
  }

  private async issue(): Promise<void> {
    this.current = await issueServingCert(this.opts.hosts ?? serviceHosts(), new Date(this.now()), this.opts.validityMs ?? 30 * 24 * 3600_000);
  }

  private fail(err: unknown): void {
    const e = err instanceof MeshletError ? err : new MeshletError('MESHLET_WEBHOOK_CERT', (err as Error).message);
    this.opts.log.error({ code: e.code, err: e.message }, 'publishing the webhook CA bundle failed; retrying');
    this.schedule(this.opts.retryMs ?? 10_000, true);
  }

  private schedule(ms: number, republishOnly = false): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      const step = republishOnly ? this.publish().then(() => this.schedule(refreshDelayMs(this.current!.notBefore, this.current!.notAfter, this.now()))) : this.refresh().then(() => this.schedule(refreshDelayMs(this.current!.notBefore, this.current!.notAfter, this.now())));
      step.catch((err: unknown) => this.fail(err));
    }, ms);
  }

  /** Writes the bundle into every configured webhook configuration (read-modify-replace, retried on conflict). */
  async publish(): Promise<void> {
    const caBundle = Buffer.from(this.bundlePem()).toString('base64');
    for (const name of this.opts.mutating ?? [WEBHOOK_CONFIGURATION]) {
      await this.withConflictRetry(async () => {
        const cfg = await this.api.readMutatingWebhookConfiguration({ name });
        for (const w of cfg.webhooks ?? []) w.clientConfig.caBundle = caBundle;
        await this.api.replaceMutatingWebhookConfiguration({ name, body: cfg });
      }, name);
    }
    for (const name of this.opts.validating ?? []) {
      await this.withConflictRetry(async () => {
        const cfg = await this.api.readValidatingWebhookConfiguration({ name });
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
