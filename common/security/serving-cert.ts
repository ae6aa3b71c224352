/**
 * The one issuer of self-signed serving certificates: a fresh CA of its own (ECDSA P-256) and
 * a leaf for the given names and IP addresses. The webhook's certificate (only its CA goes
 * into caBundle) and the push server's until the mesh CA serves it are both issued here.
 */
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface ServingCert {
  caPem: string;
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]*)$/i;
// Tolerates small clock differences between the operator and the apiserver.
const BACKDATE_MS = 5 * 60_000;

export async function issueServingCert(hosts: readonly string[], now: Date, validityMs: number, caName = 'meshlet-webhook-ca'): Promise<ServingCert> {
  const notBeforeDate = new Date(now.getTime() - BACKDATE_MS);
  const notAfterDate = new Date(now.getTime() + validityMs);
  const common = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' as const, notBeforeDate };
  const ca = await generate([{ name: 'commonName', value: caName }], {
    ...common,
    // The CA outlives its leaf a little so a late refresh never leaves a gap.
    notAfterDate: new Date(notAfterDate.getTime() + validityMs / 10),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: hosts[0] ?? caName.replace(/-ca$/, '') }], {
    ...common,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: hosts.map((h) => (IP.test(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) },
    ],
  });
  const x = new X509Certificate(leaf.cert);
  return { caPem: ca.cert, certPem: leaf.cert, keyPem: leaf.private, notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) };
}

/** When to issue the next certificate: at two thirds of the current one's life, never in the past. */
export function refreshDelayMs(notBefore: Date, notAfter: Date, nowMs: number): number {
  const at = notBefore.getTime() + ((notAfter.getTime() - notBefore.getTime()) * 2) / 3;
  return Math.max(0, at - nowMs);
}
