/**
 * Local mode's mesh identity: a private state dir (0700) holding the mesh CA and one token
 * file per (namespace, serviceAccount) (0600), the operator's CA issuing workload certs
 * against those files (POST /v1/certificates on the push port), and the same tokens
 * authenticating each proxy's config requests. A proxy given its token file gets a cert
 * for exactly its own SPIFFE ID, so sidecars speak auto mTLS to each other.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../common/log.ts';
import { DEFAULT_TRUST_DOMAIN } from '../../common/spiffe.ts';
import { DirectoryCaStore } from '../../operator/ca/dir-store.ts';
import { certificatesPlugin } from '../../operator/ca/issuance.ts';
import { startCaService, type CaService } from '../../operator/ca/service.ts';
import { FileTokenVerifier } from '../../operator/ca/token-verifier.ts';

export interface LocalSecurity {
  service: CaService;
  /** Registers the certificate endpoint on the operator's push app. */
  extendPush(app: FastifyInstance): Promise<void>;
  /** Writes (once) and returns the token file of a workload identity. */
  tokenFile(namespace: string, serviceAccount: string): string;
  stop(): void;
}

/** Kubernetes names only: a token path can never leave the state dir. */
const SAFE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export async function startLocalSecurity(stateDir: string, log: Logger): Promise<LocalSecurity> {
  const tokens = join(stateDir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const service = await startCaService({ store: new DirectoryCaStore(join(stateDir, 'ca')), verifier: new FileTokenVerifier(tokens), trustDomain: DEFAULT_TRUST_DOMAIN, log });
  return {
    service,
    async extendPush(app) {
      await app.register(certificatesPlugin, service.issuance);
    },
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
    stop: () => service.stop(),
  };
}
