/**
 * The control plane's door: a proxy is accepted only with a valid service-account token
 * (Authorization: Bearer) or a workload certificate issued by the mesh CA, and may only
 * read what belongs to its own identity. Usable as the push server's `authenticate` hook.
 */
import type { TLSSocket } from 'node:tls';
import { MeshletError } from '../../common/errors.ts';
import { parseSpiffeUri, spiffeUri, uriSans } from '../../common/spiffe.ts';
import type { TokenVerifier } from './token-verifier.ts';
import type { ProxyClaim } from '../translate/identity.ts';

export interface ProxyCaller {
  namespace: string;
  serviceAccount: string;
  spiffeId: string;
  /** Pod name bound to the token, when known. */
  podName?: string;
  via: 'token' | 'certificate';
}

/** The part of a fastify/node request the check needs. */
export interface AuthRequestLike {
  headers: Record<string, string | string[] | undefined>;
  raw?: { socket?: unknown };
  socket?: unknown;
}

export interface AuthenticateOptions {
  verifier: TokenVerifier;
  trustDomain: string;
}

function bearer(headers: AuthRequestLike['headers']): string | undefined {
  const h = headers.authorization;
  const v = Array.isArray(h) ? h[0] : h;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(v ?? '');
  return m?.[1];
}

/**
 * Identity of the caller; throws MESHLET_SECURITY_UNAUTHENTICATED (answer 401) otherwise.
 * A client certificate counts only when node verified it against the mesh root
 * (`socket.authorized`), which needs the TLS server to `requestCert` with `ca` = root.
 */
export async function authenticateProxy(request: AuthRequestLike, opts: AuthenticateOptions): Promise<ProxyCaller> {
  const token = bearer(request.headers);
  if (token !== undefined) {
    const subject = await opts.verifier.verify(token);
    if (subject === undefined) throw new MeshletError('MESHLET_SECURITY_UNAUTHENTICATED', 'token rejected');
    const caller: ProxyCaller = { ...subject, spiffeId: spiffeUri({ trustDomain: opts.trustDomain, ...subject }), via: 'token' };
    return caller;
  }
  const socket = (request.raw?.socket ?? request.socket) as Partial<TLSSocket> | undefined;
  if (socket?.authorized === true && typeof socket.getPeerCertificate === 'function') {
    const uris = uriSans(socket.getPeerCertificate().subjectaltname);
    const id = uris.length === 1 ? parseSpiffeUri(uris[0] as string) : undefined;
    if (id !== undefined && id.trustDomain === opts.trustDomain) {
      return { namespace: id.namespace, serviceAccount: id.serviceAccount, spiffeId: uris[0] as string, via: 'certificate' };
    }
  }
  throw new MeshletError('MESHLET_SECURITY_UNAUTHENTICATED', 'no bearer token and no mesh client certificate');
}

/**
 * The push server's `authenticate(request, requested)` hook: proves the caller, refuses a
 * proxy id outside the caller's namespace (or another pod, for pod-bound tokens), and pins
 * the claim's service account to the proven one. `extra` may add the proxy's stated
 * labels/ip/workload (used only for pods the operator does not know); the operator must still
 * refuse when the known pod's service account differs from `claim.serviceAccount`
 * (see `assertClaimMatchesPod`).
 */
export function createPushAuthenticate(
  opts: AuthenticateOptions & { extra?: (request: never, requested: { name: string; namespace: string }) => Partial<ProxyClaim> },
): (request: AuthRequestLike, requested: { name: string; namespace: string }) => Promise<ProxyClaim> {
  return async (request, requested) => {
    const caller = await authenticateProxy(request, opts);
    if (caller.namespace !== requested.namespace || (caller.podName !== undefined && caller.podName !== requested.name)) {
      throw new MeshletError('MESHLET_SECURITY_FORBIDDEN', `${caller.spiffeId} asked for proxy ${requested.name}.${requested.namespace}`);
    }
    const stated = opts.extra?.(request as never, requested) ?? {};
    const claim: ProxyClaim = { ...stated, name: requested.name, namespace: requested.namespace, serviceAccount: caller.serviceAccount };
    return claim;
  };
}

/** For the operator once it found the pod: its service account must be the proven one. */
export function assertClaimMatchesPod(claim: ProxyClaim, podServiceAccount: string | undefined): void {
  if (podServiceAccount !== undefined && claim.serviceAccount !== undefined && podServiceAccount !== claim.serviceAccount) {
    throw new MeshletError('MESHLET_SECURITY_FORBIDDEN', `pod ${claim.name}.${claim.namespace} runs as ${podServiceAccount}, caller is ${claim.serviceAccount}`);
  }
}
