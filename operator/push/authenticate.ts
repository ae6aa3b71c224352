/**
 * The push server's `authenticate` hook backed by the mesh's proxy authentication
 * (operator/ca: projected service-account token, or workload certificate), with the
 * proxy's stated details (labels, ip) from the request for workloads the operator does not
 * know. The server then refuses a claim whose proven service account is not the one the
 * World has for that pod (a proxy may read only its own workload's config).
 */
import type { FastifyRequest } from 'fastify';
import type { ProxyAuthenticator } from './server.ts';
import { claimFromRequest } from './server.ts';
import { createPushAuthenticate, type AuthenticateOptions } from '../ca/authenticate.ts';

export function meshProxyAuthenticator(opts: AuthenticateOptions): ProxyAuthenticator {
  const hook = createPushAuthenticate({ ...opts, extra: (request: FastifyRequest, requested) => claimFromRequest(request, requested) });
  return (request, requested) => hook(request, requested);
}
