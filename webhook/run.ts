/**
 * Starts the sidecar injector against a cluster: serving certificate (issued and published into
 * caBundle, or given as files), template values from the watched ConfigMap, namespace cache,
 * apiserver version → native sidecars. The operator calls this in-process; `meshlet webhook`
 * calls it alone.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../common/log.ts';
import { WebhookCertManager } from './cert-manager.ts';
import { SecretCertStore } from './cert-store.ts';
import { readNativeSidecarSupport } from './cluster-version.ts';
import { INSTALL_NAMESPACE, PORTS } from './constants.ts';
import { createInjectionMetrics } from './metrics.ts';
import { NamespaceCache, namespaceFetcher } from './namespace-cache.ts';
import { createWebhookServer, setServingCertificate, type RoutePlugin, type TlsMaterial, type WebhookApp } from './server.ts';
import { TemplateSource } from './template-source.ts';

export interface StartWebhookOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  registry: Registry;
  /** Default 0.0.0.0:15017. */
  host?: string;
  port?: number;
  /** Serve this key/cert instead of issuing one (no caBundle is written then). */
  tls?: TlsMaterial;
  /** SANs when the certificate is issued here; default the `meshlet` Service names. */
  certHosts?: string[];
  /** Webhook configurations whose caBundle is kept current. */
  mutatingConfigurations?: string[];
  validatingConfigurations?: string[];
  /** Secret the replicas share the serving certificate through; null = none (one replica). Default meshlet-system/meshlet-webhook-tls. */
  certSecret?: { namespace: string; name: string } | null;
  plugins?: readonly RoutePlugin[];
  /** Force native sidecars on or off instead of reading the apiserver version. */
  native?: boolean;
  templateNamespace?: string;
  templateName?: string;
  maxBodyBytes?: number;
}

export const DEFAULT_CERT_SECRET = { namespace: INSTALL_NAMESPACE, name: 'meshlet-webhook-tls' } as const;

export interface RunningWebhook {
  app: WebhookApp;
  /** Actual listening port (useful with port 0). */
  port: number;
  certManager?: WebhookCertManager;
  native: boolean;
  close(): Promise<void>;
}

export async function startWebhook(opts: StartWebhookOptions): Promise<RunningWebhook> {
  const log = opts.log;
  let native = opts.native;
  if (native === undefined) {
    const v = await readNativeSidecarSupport(opts.kubeConfig);
    native = v.native;
    log.info({ apiserver: v.gitVersion, nativeSidecars: native }, 'apiserver version read');
  }
  const template = new TemplateSource({ kubeConfig: opts.kubeConfig, log, namespace: opts.templateNamespace, name: opts.templateName });
  await template.start();
  const namespaces = new NamespaceCache({ fetch: namespaceFetcher(opts.kubeConfig) });

  let certManager: WebhookCertManager | undefined;
  // The rotation callback needs the server, which needs the first certificate: a late-bound slot.
  const slot: { app?: WebhookApp } = {};
  let tls = opts.tls;
  const certSecret = opts.certSecret === undefined ? DEFAULT_CERT_SECRET : opts.certSecret;
  if (tls === undefined) {
    certManager = new WebhookCertManager({
      kubeConfig: opts.kubeConfig,
      log,
      hosts: opts.certHosts,
      mutating: opts.mutatingConfigurations,
      validating: opts.validatingConfigurations,
      store: certSecret === null ? undefined : new SecretCertStore(opts.kubeConfig, certSecret.namespace, certSecret.name),
      onRotate: (next) => { if (slot.app !== undefined) setServingCertificate(slot.app, next); },
    });
    tls = await certManager.start();
  }
  const isNative = native;
  const app = await createWebhookServer({
    tls,
    log,
    plugins: opts.plugins,
    maxBodyBytes: opts.maxBodyBytes,
    deps: { namespace: (n) => namespaces.get(n), values: () => template.current(), native: () => isNative, metrics: createInjectionMetrics(opts.registry), log },
  });
  slot.app = app;
  await app.listen({ host: opts.host ?? '0.0.0.0', port: opts.port ?? PORTS.webhook });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (opts.port ?? PORTS.webhook);
  log.info({ port, nativeSidecars: native }, 'sidecar injector listening');
  return {
    app,
    port,
    certManager,
    native,
    async close() {
      certManager?.stop();
      template.stop();
      await app.close();
    },
  };
}
