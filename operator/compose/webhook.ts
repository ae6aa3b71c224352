/**
 * The sidecar injector (and /validate) in the operator process on 15017, like istiod:
 * same kubeconfig, metrics on the operator's registry (served on 15014 /metrics).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/log.ts';
import { startWebhook, type RunningWebhook } from '../../webhook/run.ts';
import { serviceHosts } from '../../webhook/constants.ts';
import { validatePlugin } from '../../webhook/validate.ts';

export interface ComposedWebhookOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  registry: Registry;
  host: string;
  port: number;
  /** SANs of the issued serving certificate (default: the `meshlet` Service names). */
  certHosts?: string[];
  /** MutatingWebhookConfigurations whose caBundle is kept current (default meshlet-sidecar-injector). */
  mutatingConfigurations?: string[];
  /** ValidatingWebhookConfigurations (default meshlet-validator, the chart's). */
  validatingConfigurations?: string[];
}

export async function composeWebhook(opts: ComposedWebhookOptions): Promise<RunningWebhook> {
  const registry = opts.registry;
  return startWebhook({
    kubeConfig: opts.kubeConfig,
    log: opts.log,
    registry,
    host: opts.host,
    port: opts.port,
    certHosts: opts.certHosts ?? serviceHosts(),
    ...(opts.mutatingConfigurations === undefined ? {} : { mutatingConfigurations: opts.mutatingConfigurations }),
    validatingConfigurations: opts.validatingConfigurations ?? ['meshlet-validator'],
    plugins: [async (app: FastifyInstance) => { await app.register(validatePlugin, { registry }); }],
  });
}
