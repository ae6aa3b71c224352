// Throwaway PKI for one cluster, generated in memory (ECDSA P-256, fast):
// a CA, the apiserver serving cert, the admin client cert (system:masters),
// the service-account signing key pair, and serving certs for webhooks.
// `selfsigned` (a dependency) rather than @peculiar/x509 directly: x509 v2
// needs a reflect polyfill that is not a declared dependency here.
import { generateKeyPairSync } from 'node:crypto';
import { generate } from 'selfsigned';

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  /** Subject O; the admin uses `system:masters`. */
  organization?: string;
  /** IPs and DNS names for a serving cert. */
  hosts?: string[];
  client?: boolean;
}

export interface CertificateAuthority extends KeyPairPem {
  /** Issues a leaf certificate signed by this CA. */
  issue(options: IssueOptions): Promise<KeyPairPem>;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]*)$/i;

function validity(): { notBeforeDate: Date; notAfterDate: Date } {
  // Back-dated an hour so small clock differences never make a cert "not yet valid".
  const now = Date.now();
  return { notBeforeDate: new Date(now - 3600_000), notAfterDate: new Date(now + 7 * 24 * 3600_000) };
}

export async function createCA(commonName = 'meshlet-test-ca'): Promise<CertificateAuthority> {
  const ca = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ...validity(),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return {
    certPem: ca.cert,
    keyPem: ca.private,
    async issue(options: IssueOptions): Promise<KeyPairPem> {
      const hosts = options.hosts ?? [];
      const attrs = [{ name: 'commonName', value: options.commonName }];
      if (options.organization !== undefined) attrs.push({ name: 'organizationName', value: options.organization });
      const leaf = await generate(attrs, {
        keyType: 'ec',
        curve: 'P-256',
        algorithm: 'sha256',
        ...validity(),
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
          { name: 'basicConstraints', cA: false, critical: true },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: hosts.length > 0, clientAuth: options.client === true },
          ...(hosts.length > 0
            ? [{ name: 'subjectAltName' as const, altNames: hosts.map((h) => (IP.test(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) }]
            : []),
        ],
      });
      return { certPem: leaf.cert, keyPem: leaf.private };
    },
  };
}

/** Key pair for signing service-account tokens (private PKCS#8, public SPKI). */
export function createSigningKey(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}
