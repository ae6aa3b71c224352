/**
 * The operator's own serving certificate for 15012, issued by the mesh CA: URI SAN
 * `spiffe://<td>/ns/meshlet-system/sa/<sa>` plus the Service host names and IPs, so proxies
 * trust it with the root from ConfigMap `meshlet-ca-root` and can check either the host name
 * or (better) the exact SPIFFE ID (`createCertRequester({operatorIdentity})`).
 */
import { isIP } from 'node:net';
import { spiffeUri } from '../../common/spiffe.ts';
import { exportPrivateKeyPem, generateP256, SIGN_ECDSA_SHA256 } from '../../common/security/keys.ts';
import { x509 } from '../../common/security/x509.ts';
import type { CertificateAuthority } from './authority.ts';

export interface OperatorServingCert {
  keyPem: string;
  certChainPem: string;
  rootCertPem: string;
  identity: string;
  notAfter: Date;
}

export async function issueOperatorServingCert(ca: CertificateAuthority, opts: { hosts: string[]; namespace?: string; serviceAccount?: string; ttlMs?: number }): Promise<OperatorServingCert> {
  const identity = spiffeUri({ trustDomain: ca.trustDomain, namespace: opts.namespace ?? 'meshlet-system', serviceAccount: opts.serviceAccount ?? 'meshlet-operator' });
  const keys = await generateP256();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'O=meshlet', keys, signingAlgorithm: SIGN_ECDSA_SHA256 });
  const out = await ca.sign(csr.toString('pem'), identity, opts.ttlMs ?? 30 * 24 * 3600_000, {
    dnsNames: opts.hosts.filter((h) => isIP(h) === 0),
    ips: opts.hosts.filter((h) => isIP(h) !== 0),
  });
  return { keyPem: await exportPrivateKeyPem(keys.privateKey), certChainPem: out.certChainPem, rootCertPem: out.rootCertPem, identity, notAfter: out.notAfter };
}
