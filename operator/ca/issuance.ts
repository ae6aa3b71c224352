/**
 * `POST /v1/certificates` as a fastify plugin for the operator's 15012 server.
 * Request JSON `{csr: PEM, ttlSeconds?}` with `Authorization: Bearer <projected token>`
 * (or a current workload certificate). Answer `{certChain, rootCert, identity, serial, notAfter}`.
 * The identity comes from the token alone; the CSR contributes only its public key.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { MeshletError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import { authenticateProxy } from './authenticate.ts';
import type { CertificateAuthority } from './authority.ts';
import type { TokenVerifier } from './token-verifier.ts';

export const DEFAULT_WORKLOAD_TTL_MS = 24 * 3600 * 1000;

export interface IssuanceOptions {
  /** Current CA (a getter so a reloaded CA takes effect without re-registering). */
  ca: () => CertificateAuthority;
  verifier: TokenVerifier;
  trustDomain: string;
  /** Default and maximum workload cert TTL, ms (24 h). */
  ttlMs?: number;
  log?: Logger;
}

export interface CertificateResponse {
  certChain: string;
  rootCert: string;
  identity: string;
  serial: string;
  notAfter: string;
}

/** The catalog entry of the error's code gives the status. */
function fail(reply: FastifyReply, err: MeshletError): FastifyReply {
  return reply.code(err.status).header('x-meshlet-error', err.code).send({ code: err.code, message: err.message, hint: err.hint });
}

export async function certificatesPlugin(app: FastifyInstance, opts: IssuanceOptions): Promise<void> {
  const maxTtl = opts.ttlMs ?? DEFAULT_WORKLOAD_TTL_MS;
  app.post('/v1/certificates', { bodyLimit: 64 * 1024 }, async (request, reply) => {
    let caller;
    try {
      caller = await authenticateProxy(request, { verifier: opts.verifier, trustDomain: opts.trustDomain });
    } catch (err) {
      if (err instanceof MeshletError) return fail(reply, err);
      throw err;
    }
    const body = request.body as { csr?: unknown; ttlSeconds?: unknown } | undefined;
    if (typeof body?.csr !== 'string') return fail(reply, new MeshletError('MESHLET_SECURITY_BAD_CSR', 'body must be JSON {"csr": "<PEM>"}'));
    const asked = typeof body.ttlSeconds === 'number' && body.ttlSeconds > 0 ? body.ttlSeconds * 1000 : maxTtl;
    try {
      const issued = await opts.ca().sign(body.csr, caller.spiffeId, Math.min(asked, maxTtl));
      opts.log?.debug({ identity: issued.identity, serial: issued.serial, via: caller.via }, 'issued workload certificate');
      const res: CertificateResponse = {
        certChain: issued.certChainPem, rootCert: issued.rootCertPem, identity: issued.identity, serial: issued.serial, notAfter: issued.notAfter.toISOString(),
      };
      return res;
    } catch (err) {
      if (err instanceof MeshletError) return fail(reply, err);
      throw err;
    }
  });
}
