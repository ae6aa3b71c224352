/**
 * The JWT bench variant's security: a RequestAuthentication rule with an RS256 key generated
 * for the run, an AuthorizationPolicy that needs a request principal and a claim (the typical
 * "authenticated users of group X" policy), and a token that satisfies both, valid for the run.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { ProxySnapshot } from '../../../common/snapshot.ts';

const ISS = 'https://issuer.bench.example';
const prov = (kind: string) => ({ kind, namespace: 'bench', name: 'bench' });

export async function jwtBenchSecurity(): Promise<{ security: Partial<ProxySnapshot['security']>; token: string }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ iss: ISS, sub: 'bench-user', aud: 'bench', groups: ['readers', 'bench'], iat: now, exp: now + 24 * 3600 })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench', typ: 'JWT' }).sign(privateKey);
  return {
    token,
    security: {
      requestAuthentication: [{
        issuer: ISS, audiences: ['bench'], jwks: { keys: [jwk as Record<string, unknown>] }, locations: [{ header: { name: 'authorization', prefix: 'Bearer ' } }],
        forwardOriginalToken: false, outputClaimToHeaders: [], spaceDelimitedClaims: [], provenance: prov('RequestAuthentication'),
      }],
      authorization: [{
        name: 'bench/bench', action: 'ALLOW', provenance: prov('AuthorizationPolicy'),
        rules: [{ from: [{ requestPrincipals: [`${ISS}/*`] }], to: [], when: [{ key: 'request.auth.claims[groups]', values: ['bench'] }] }],
      }],
    },
  };
}
