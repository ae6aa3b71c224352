/**
 * Issues the webhook's serving certificate: a fresh CA of its own (ECDSA P-256) and a leaf for
 * the webhook's Service names (and 127.0.0.1 for local runs). Only the CA goes into caBundle.
 */
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { INSTALL_NAMESPACE } from './constants.ts';

export interface ServingCert {
  caPem: string;
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

/** The DNS names the apiserver uses to reach the webhook Service `meshlet` in meshlet-system. */
export function serviceHosts(service = 'meshlet', namespace = INSTALL_NAMESPACE): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]*)$/i;
// Tolerates small clock differences between the operator and the apiserver.
const BACKDATE_MS = 5 * 60_000;

export async function issueServingCert(hosts: readonly string[], now: Date, validityMs: number): Promise<ServingCert> {
  const notBeforeDate = new Date(now.getTime() - BACKDATE_MS);
  const notAfterDate = new Date(now.getTime() + validityMs);
  const common = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' as const, notBeforeDate };
  const ca = await generate([{ name: 'commonName', value: 'meshlet-webhook-ca' }], {
    ...common,
    // The CA outlives its leaf a little so a late refresh never leaves a gap.
    notAfterDate: new Date(notAfterDate.getTime() + validityMs / 10),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: hosts[0] ?? 'meshlet-webhook' }], {
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
