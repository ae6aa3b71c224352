/**
 * The operator's CA in one call: load (or create) the CA from its store, register the root
 * expiry gauge, start the 30-day warning watch, publish the root to injected namespaces
 * (cluster mode), and hand back what `certificatesPlugin` and the push server's
 * authenticate hook need.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/log.ts';
import { CertificateAuthority } from './authority.ts';
import { createPushAuthenticate } from './authenticate.ts';
import { registerRootExpiryGauge, watchRootExpiry } from './expiry.ts';
import type { IssuanceOptions } from './issuance.ts';
import type { CaStore } from './material.ts';
import { publishRootToInjectedNamespaces } from './root-publisher.ts';
import type { TokenVerifier } from './token-verifier.ts';

export interface CaServiceOptions {
  store: CaStore;
  verifier: TokenVerifier;
  trustDomain: string;
  log: Logger;
  registry?: Registry;
  /** Cluster mode: publish ConfigMap meshlet-ca-root in injected namespaces. */
  core?: CoreV1Api;
  /** Workload cert TTL, ms (24 h by default). */
  workloadTtlMs?: number;
  /** Lifetime of a root generated here, ms (10 years by default); a loaded root keeps its own. */
  rootTtlMs?: number;
  now?: () => number;
}

export interface CaService {
  ca: CertificateAuthority;
  /** Options for `app.register(certificatesPlugin, service.issuance)`. */
  issuance: IssuanceOptions;
  /** The push server's `authenticate` hook. */
  authenticate: ReturnType<typeof createPushAuthenticate>;
  /** Re-publishes the root (call when a namespace becomes injected). */
  publishRoot(): Promise<string[]>;
  stop(): void;
}

export async function startCaService(opts: CaServiceOptions): Promise<CaService> {
  const caOpts = { trustDomain: opts.trustDomain, ...(opts.now === undefined ? {} : { now: opts.now }), ...(opts.rootTtlMs === undefined ? {} : { rootTtlMs: opts.rootTtlMs }) };
  const ca = await CertificateAuthority.loadOrCreate(opts.store, caOpts);
  opts.log.info({ origin: ca.origin, location: opts.store.location, rootNotAfter: ca.rootNotAfter.toISOString(), serial: ca.caCert.serialNumber }, 'mesh CA loaded');
  if (opts.registry !== undefined) registerRootExpiryGauge(opts.registry, () => ca, opts.now);
  const stopWatch = watchRootExpiry(() => ca, opts.log, opts.now === undefined ? {} : { now: opts.now });
  const publishRoot = async (): Promise<string[]> => (opts.core === undefined ? [] : publishRootToInjectedNamespaces(opts.core, ca.rootCertPem));
  await publishRoot();
  const issuance: IssuanceOptions = { ca: () => ca, verifier: opts.verifier, trustDomain: opts.trustDomain, log: opts.log };
  if (opts.workloadTtlMs !== undefined) issuance.ttlMs = opts.workloadTtlMs;
  return { ca, issuance, authenticate: createPushAuthenticate({ verifier: opts.verifier, trustDomain: opts.trustDomain }), publishRoot, stop: stopWatch };
}
