/**
 * The sidecar template values, kept current from the ConfigMap `meshlet-sidecar-injector` in
 * meshlet-system (the chart writes it). Watches the one ConfigMap; invalid values are logged
 * with MESHLET_WEBHOOK_TEMPLATE_INVALID and the last good values stay in use. Built-in defaults
 * apply until the ConfigMap is read, and when it does not exist.
 */
import { CoreV1Api, Watch, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { MeshletError } from '../common/errors.ts';
import type { Logger } from '../common/log.ts';
import { INSTALL_NAMESPACE, TEMPLATE_CONFIGMAP } from './constants.ts';
import { DEFAULT_VALUES, templateVersion, valuesFromConfigMap, type SidecarValues } from './values.ts';

export interface TemplateSourceOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  namespace?: string;
  name?: string;
  /** Delay before re-establishing a dropped watch. Default 2 s. */
  rewatchMs?: number;
}

export class TemplateSource {
  private readonly opts: TemplateSourceOptions;
  private values: SidecarValues = DEFAULT_VALUES;
  private abort: AbortController | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: TemplateSourceOptions) {
    this.opts = opts;
  }

  current(): SidecarValues {
    return this.values;
  }

  /** Reads the ConfigMap once, then keeps watching it. */
  async start(): Promise<void> {
    const ns = this.opts.namespace ?? INSTALL_NAMESPACE;
    const name = this.opts.name ?? TEMPLATE_CONFIGMAP;
    try {
      const cm = await this.opts.kubeConfig.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name, namespace: ns });
      this.apply(cm);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) this.opts.log.warn({ err: (err as Error).message }, 'reading the sidecar template ConfigMap failed; using defaults');
    }
    await this.watch(ns, name);
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private apply(cm: V1ConfigMap | undefined): void {
    try {
      const next = valuesFromConfigMap(cm?.data);
      if (templateVersion(next) !== templateVersion(this.values)) this.opts.log.info({ template: templateVersion(next) }, 'sidecar template values changed');
      this.values = next;
    } catch (err) {
      const e = err as MeshletError;
      this.opts.log.error({ code: e.code, err: e.message }, e.message);
    }
  }

  private async watch(ns: string, name: string): Promise<void> {
    if (this.stopped) return;
    const w = new Watch(this.opts.kubeConfig);
    const again = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.watch(ns, name).catch(again), this.opts.rewatchMs ?? 2000);
      this.timer.unref();
    };
    try {
      // A watch without resourceVersion starts with the current object (ADDED), so a re-watch resyncs.
      this.abort = await w.watch(`/api/v1/namespaces/${ns}/configmaps`, { fieldSelector: `metadata.name=${name}` }, (phase, obj: V1ConfigMap) => {
        if (phase === 'ADDED' || phase === 'MODIFIED') this.apply(obj);
        else if (phase === 'DELETED') this.values = DEFAULT_VALUES;
      }, () => again());
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'watching the sidecar template ConfigMap failed; retrying');
      again();
    }
  }
}
