/**
 * Key and PEM plumbing between node's KeyObject (reads every PEM shape users hand us:
 * SEC1 "EC PRIVATE KEY", PKCS#8, PKCS#1 RSA) and WebCrypto CryptoKeys, which is what
 * @peculiar/x509 signs with. node-forge is not used: it cannot read or sign EC keys.
 */
import { createPrivateKey, webcrypto } from 'node:crypto';

export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGN_ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Algorithm parameters WebCrypto needs to import and sign with a key of this type. */
export interface KeyAlgorithms {
  importAlg: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  /** Signature algorithm: name plus hash (what @peculiar/x509 takes as signingAlgorithm). */
  signAlg: { name: string; hash: string };
}

function algorithmsFor(pem: string): KeyAlgorithms {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
    if (namedCurve === undefined) throw new Error(`unsupported EC curve ${curve ?? '?'}`);
    return { importAlg: { name: 'ECDSA', namedCurve }, signAlg: { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' } };
  }
  if (key.asymmetricKeyType === 'rsa') return { importAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? '?'}`);
}

/** Imports any PEM private key as a WebCrypto signing key. */
export async function importSigningKey(pem: string): Promise<{ key: webcrypto.CryptoKey; signAlg: KeyAlgorithms['signAlg'] }> {
  const algs = algorithmsFor(pem);
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  const key = await webcrypto.subtle.importKey('pkcs8', der, algs.importAlg, true, ['sign']);
  return { key, signAlg: algs.signAlg };
}

/** PKCS#8 PEM of a WebCrypto private key (what node:tls takes as `key`). */
export async function exportPrivateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

/** A fresh ECDSA P-256 key pair, extractable so it can be handed to node:tls. */
export async function generateP256(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
}

/** Splits a PEM bundle into its certificates, in order. */
export function splitPemCerts(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}

/** A random positive 128-bit serial number in hex (RFC 5280: ≤ 20 octets, positive). */
export function randomSerial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] ?? 0) & 0x7f | 0x01;
  return Buffer.from(b).toString('hex');
}
