/** Keys and tokens for the JWT tests: generated per test run with jose, never checked in. */
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  /** The public JWK (with kid, alg, use). */
  jwk: JWK;
}

export async function testKey(kid: string, alg: 'RS256' | 'ES256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

export const jwksOf = (...keys: TestKey[]): { keys: Record<string, unknown>[] } => ({ keys: keys.map((k) => ({ ...k.jwk })) });

/** A signed token; `exp` and `iat` are seconds since the epoch relative to `nowS`. */
export async function sign(key: TestKey, claims: JWTPayload, opts: { nowS?: number; expInS?: number; kid?: string } = {}): Promise<string> {
  const now = opts.nowS ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + (opts.expInS ?? 3600), ...claims }).setProtectedHeader({ alg: key.alg, kid: opts.kid ?? key.kid, typ: 'JWT' }).sign(key.privateKey);
}
