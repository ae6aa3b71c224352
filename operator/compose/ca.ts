/**
 * The mesh CA composed into the operator: CA material from Secret `meshlet-ca` (cluster) or a
 * directory (local), proxy authentication by TokenReview or token files, the 15012 serving
 * certificate issued by the mesh root (so proxies trust the operator through ConfigMap
 * `meshlet-ca-root`), and `POST /v1/certificates` counted on the operator's registry.
 */
import { join } from 'node:path';
import { AuthenticationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/log.ts';
import { DirectoryCaStore } from '../ca/dir-store.ts';
import { issueOperatorServingCert } from '../ca/operator-cert.ts';
import { certificatesPlugin } from '../ca/issuance.ts';
import { SecretCaStore } from '../ca/secret-store.ts';
import { startCaService, type CaService } from '../ca/service.ts';
import { FileTokenVerifier, TokenReviewVerifier, type TokenVerifier } from '../ca/token-verifier.ts';
import { meshProxyAuthenticator } from '../push/authenticate.ts';
import type { ProxyAuthenticator } from '../push/server.ts';
import { defaultServingHosts } from '../push/serving-cert.ts';
import { createCertMetrics, type CertMetrics } from './cert-metrics.ts';

export type CaMode = { kind: 'cluster'; kubeConfig: KubeConfig } | { kind: 'local'; caDir: string; tokenDir: string };

export interface ComposedCa {
  service: CaService;
  verifier: TokenVerifier;
  /** For runOperator's `tls`: chain + key, the mesh root as `ca`, client certs requested. */
  tls: { key: string; cert: string; ca: string; requestCert: true };
  authenticate: ProxyAuthenticator;
  /** runOperator's extendPush: registers POST /v1/certificates with its counters. */
  extendPush(app: FastifyInstance): Promise<void>;
  /** CoreV1Api in cluster mode (root publishing). */
  core?: CoreV1Api;
}

/** Local-mode defaults: CA material and token files under `<dir>/.meshlet/`. */
export function localCaPaths(localDir: string): { caDir: string; tokenDir: string } {
  return { caDir: join(localDir, '.meshlet', 'ca'), tokenDir: join(localDir, '.meshlet', 'tokens') };
}

export async function composeCa(mode: CaMode, opts: { trustDomain: string; log: Logger; registry: Registry; servingHosts?: string[]; workloadTtlMs?: number; rootTtlMs?: number; userCaSecret?: string }): Promise<ComposedCa> {
  let verifier: TokenVerifier;
  let core: CoreV1Api | undefined;
  let store;
  if (mode.kind === 'cluster') {
    core = mode.kubeConfig.makeApiClient(CoreV1Api);
    store = new SecretCaStore(core, undefined, opts.userCaSecret);
    verifier = new TokenReviewVerifier(mode.kubeConfig.makeApiClient(AuthenticationV1Api));
  } else {
    store = new DirectoryCaStore(mode.caDir);
    verifier = new FileTokenVerifier(mode.tokenDir);
  }
  const service = await startCaService({ store, verifier, trustDomain: opts.trustDomain, log: opts.log, registry: opts.registry, ...(core === undefined ? {} : { core }), ...(opts.workloadTtlMs === undefined ? {} : { workloadTtlMs: opts.workloadTtlMs }), ...(opts.rootTtlMs === undefined ? {} : { rootTtlMs: opts.rootTtlMs }) });
  const serving = await issueOperatorServingCert(service.ca, { hosts: opts.servingHosts ?? defaultServingHosts() });
  const metrics = createCertMetrics(opts.registry);
  const out: ComposedCa = {
    service,
    verifier,
    tls: { key: serving.keyPem, cert: serving.certChainPem, ca: service.ca.rootCertPem, requestCert: true },
    authenticate: meshProxyAuthenticator({ verifier, trustDomain: opts.trustDomain }),
    extendPush: (app) => registerCertificates(app, service, metrics),
  };
  if (core !== undefined) out.core = core;
  return out;
}

/** Counts every CSR and its outcome around the security engineer's plugin (encapsulated scope). */
export async function registerCertificates(app: FastifyInstance, service: CaService, metrics: CertMetrics): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onResponse', async (request, reply) => {
      if (request.method !== 'POST' || request.routeOptions.url !== '/v1/certificates') return;
      metrics.observe(reply.statusCode);
    });
    await scope.register(certificatesPlugin, service.issuance);
  });
}
