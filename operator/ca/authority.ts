/**
 * The mesh CA: loads its signing material from a CaStore (or creates an ECDSA P-256 root
 * on first start), and signs workload certificates whose ONLY identity is the URI SAN it
 * is told to put there — nothing from the CSR but its public key is copied.
 */
import type { webcrypto } from 'node:crypto';
import { x509 } from '../../common/security/x509.ts';
import { MeshletError } from '../../common/errors.ts';
import { generateP256, exportPrivateKeyPem, importSigningKey, randomSerial, splitPemCerts, SIGN_ECDSA_SHA256, type KeyAlgorithms } from '../../common/security/keys.ts';
import type { CaMaterial, CaOrigin, CaStore } from './material.ts';

export interface CaOptions {
  trustDomain: string;
  /** Injectable clock (ms since epoch). */
  now?: () => number;
  /** Validity of a generated root, ms (10 years by default). */
  rootTtlMs?: number;
}

export interface IssuedCert {
  /** Leaf certificate PEM. */
  certPem: string;
  /** Leaf followed by the CA chain: what the workload presents. */
  certChainPem: string;
  /** Trust anchor(s) the workload verifies peers with. */
  rootCertPem: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  identity: string;
}

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
// Tolerate small clock skew between nodes (Istio backdates too).
const BACKDATE_MS = 60_000;

/** Creates a self-signed ECDSA P-256 root, usable as the signing CA. */
export async function generateRoot(trustDomain: string, notBefore: Date, notAfter: Date): Promise<CaMaterial> {
  const keys = await generateP256();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `O=${trustDomain}, CN=meshlet root CA`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: SIGN_ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = `${cert.toString('pem')}\n`;
  return { caCertPem: pem, caKeyPem: await exportPrivateKeyPem(keys.privateKey), rootCertPem: pem, certChainPem: pem };
}

export class CertificateAuthority {
  readonly origin: CaOrigin;
  readonly trustDomain: string;
  readonly caCert: x509.X509Certificate;
  readonly rootCerts: x509.X509Certificate[];
  readonly #material: CaMaterial;
  readonly #key: webcrypto.CryptoKey;
  readonly #signAlg: KeyAlgorithms['signAlg'];
  readonly #now: () => number;

  private constructor(material: CaMaterial, origin: CaOrigin, key: webcrypto.CryptoKey, signAlg: KeyAlgorithms['signAlg'], opts: CaOptions) {
    this.#material = material;
    this.origin = origin;
    this.trustDomain = opts.trustDomain;
    this.caCert = new x509.X509Certificate(material.caCertPem);
    this.rootCerts = splitPemCerts(material.rootCertPem).map((p) => new x509.X509Certificate(p));
    this.#key = key;
    this.#signAlg = signAlg;
    this.#now = opts.now ?? Date.now;
  }

  /** Loads the CA from its store, creating and storing a new root when there is none. */
  static async loadOrCreate(store: CaStore, opts: CaOptions): Promise<CertificateAuthority> {
    const now = opts.now ?? Date.now;
    let loaded = await store.load();
    if (loaded === undefined) {
      const start = now() - BACKDATE_MS;
      const generated = await generateRoot(opts.trustDomain, new Date(start), new Date(start + (opts.rootTtlMs ?? TEN_YEARS_MS)));
      loaded = { material: await store.saveGenerated(generated), origin: 'generated' };
    }
    return CertificateAuthority.fromMaterial(loaded.material, loaded.origin, opts);
  }

  /** Checks user-provided material hangs together before it signs anything. */
  static async fromMaterial(material: CaMaterial, origin: CaOrigin, opts: CaOptions): Promise<CertificateAuthority> {
    let imported;
    try {
      imported = await importSigningKey(material.caKeyPem);
    } catch (err) {
      throw new MeshletError('MESHLET_SECURITY_CA_LOAD', `ca-key.pem: ${(err as Error).message}`);
    }
    const ca = new CertificateAuthority(material, origin, imported.key, imported.signAlg, opts);
    const bc = ca.caCert.getExtension(x509.BasicConstraintsExtension);
    if (bc === null || !bc.ca) throw new MeshletError('MESHLET_SECURITY_CA_LOAD', 'ca-cert.pem is not a CA certificate (basicConstraints CA:TRUE missing)');
    if (ca.rootCerts.length === 0) throw new MeshletError('MESHLET_SECURITY_CA_LOAD', 'root-cert.pem holds no certificate');
    // The key must belong to ca-cert.pem: sign a probe and verify with the cert's public key.
    const probe = await x509.X509CertificateGenerator.create({
      subject: 'CN=probe', issuer: ca.caCert.subject, publicKey: ca.caCert.publicKey, signingKey: ca.#key, signingAlgorithm: ca.#signAlg,
    });
    if (!(await probe.verify({ publicKey: ca.caCert.publicKey, signatureOnly: true }))) {
      throw new MeshletError('MESHLET_SECURITY_CA_LOAD', 'ca-key.pem does not match ca-cert.pem');
    }
    const chain = splitPemCerts(material.certChainPem).map((p) => new x509.X509Certificate(p));
    const top = chain[chain.length - 1] ?? ca.caCert;
    const anchored = await Promise.all(ca.rootCerts.map((r) => top.verify({ publicKey: r.publicKey, signatureOnly: true }).catch(() => false)));
    if (!anchored.includes(true)) throw new MeshletError('MESHLET_SECURITY_CA_LOAD', 'cert-chain.pem does not chain to root-cert.pem');
    return ca;
  }

  /** Safe view for /debug and logs: never the key (JSON.stringify(ca) cannot leak it). */
  toJSON(): { origin: CaOrigin; trustDomain: string; serial: string; subject: string; rootNotAfter: string } {
    return { origin: this.origin, trustDomain: this.trustDomain, serial: this.caCert.serialNumber, subject: this.caCert.subject, rootNotAfter: this.rootNotAfter.toISOString() };
  }

  /** The trust anchor(s) PEM that proxies verify peers with. */
  get rootCertPem(): string {
    return this.#material.rootCertPem;
  }

  /** Earliest notAfter among the roots: the date the mesh stops working without rotation. */
  get rootNotAfter(): Date {
    return new Date(Math.min(...this.rootCerts.map((r) => r.notAfter.getTime()), this.caCert.notAfter.getTime()));
  }

  /**
   * Signs the CSR's public key for `identity`. The CSR's own signature must verify (proof
   * of key possession); its subject and extensions are ignored on purpose.
   */
  async sign(csrPem: string, identity: string, ttlMs: number, serving?: { dnsNames?: string[]; ips?: string[] }): Promise<IssuedCert> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (err) {
      throw new MeshletError('MESHLET_SECURITY_BAD_CSR', (err as Error).message);
    }
    if (!(await csr.verify())) throw new MeshletError('MESHLET_SECURITY_BAD_CSR', 'CSR signature does not verify');
    const start = this.#now() - BACKDATE_MS;
    // Never outlive the CA that signs it.
    const end = Math.min(this.#now() + ttlMs, this.caCert.notAfter.getTime());
    const aki = this.caCert.getExtension(x509.SubjectKeyIdentifierExtension);
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      // Empty subject, so the SAN is critical (RFC 5280 §4.2.1.6), as in Istio's certs.
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: identity },
        // Only the operator's own serving cert gets host names (never through issuance).
        ...(serving?.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(serving?.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
      ], true),
    ];
    if (aki !== null) extensions.push(new x509.AuthorityKeyIdentifierExtension(aki.keyId));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: '',
      issuer: this.caCert.subject,
      notBefore: new Date(start),
      notAfter: new Date(end),
      publicKey: csr.publicKey,
      signingKey: this.#key,
      signingAlgorithm: this.#signAlg,
      extensions,
    });
    const certPem = `${cert.toString('pem')}\n`;
    return {
      certPem,
      certChainPem: certPem + this.#material.certChainPem,
      rootCertPem: this.#material.rootCertPem,
      serial: cert.serialNumber,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      identity,
    };
  }
}
