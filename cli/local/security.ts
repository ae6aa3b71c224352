/**
 * Local mode's mesh identity, composed like `meshlet operator` does it (operator/compose/ca.ts):
 * a private state dir (0700) holding the mesh CA and one token file per (namespace,
 * serviceAccount) (0600); the operator's CA issues workload certs against those files
 * (POST /v1/certificates on the push port), serves 15012 with a cert from the mesh root,
 * and authenticates each proxy's config requests by its token or workload cert. A proxy
 * given its token file gets a cert for exactly its own SPIFFE ID, so sidecars speak auto
 * mTLS to each other.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/log.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../common/spiffe.ts';
import { composeCa, type ComposedCa } from '../../operator/compose/ca.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../../operator/metrics.ts';
import { defaultServingHosts } from '../../operator/push/serving-cert.ts';

export interface LocalSecurity {
  ca: ComposedCa;
  /** The operator's metrics (certificate counters registered on them). */
  metrics: OperatorMetrics;
  /** Writes (once) and returns the token file of a workload identity. */
  tokenFile(namespace: string, serviceAccount: string): string;
  stop(): void;
}

/** Kubernetes names only: a token path can never leave the state dir. */
const SAFE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export async function startLocalSecurity(stateDir: string, log: Logger, extraHosts: readonly string[] = []): Promise<LocalSecurity> {
  const tokens = join(stateDir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const metrics = createOperatorMetrics({ defaultMetrics: true });
  const ca = await composeCa({ kind: 'local', caDir: join(stateDir, 'ca'), tokenDir: tokens }, { trustDomain: DEFAULT_TRUST_DOMAIN, log, registry: metrics.registry, servingHosts: [...defaultServingHosts(), ...extraHosts] });
  return {
    ca,
    metrics,
    tokenFile(namespace, serviceAccount) {
      if (!SAFE.test(namespace) || !SAFE.test(serviceAccount)) throw new Error(`not a valid namespace/serviceAccount: ${namespace}/${serviceAccount}`);
      const dir = join(tokens, namespace);
      const file = join(dir, `${serviceAccount}.token`);
      if (!existsSync(file)) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
      }
      return file;
    },
    stop: () => ca.service.stop(),
  };
}
