/**
 * A throwaway CA and serving certificate for the push server (15012) until the mesh CA
 * serves it: the CA PEM is written to a file so proxies and tests can trust it.
 */
import { generate } from 'selfsigned';
import { ROOT_NAMESPACE } from '../world/objects.ts';

export interface ServingCert {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]*)$/i;

export function defaultServingHosts(): string[] {
  const svc = 'meshlet';
  return ['127.0.0.1', 'localhost', svc, `${svc}.${ROOT_NAMESPACE}`, `${svc}.${ROOT_NAMESPACE}.svc`, `${svc}.${ROOT_NAMESPACE}.svc.cluster.local`];
}

export async function issuePushServingCert(hosts: string[] = defaultServingHosts(), validityMs = 365 * 24 * 3600 * 1000): Promise<ServingCert> {
  const notBeforeDate = new Date(Date.now() - 5 * 60_000);
  const notAfterDate = new Date(Date.now() + validityMs);
  const common = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' as const, notBeforeDate, notAfterDate };
  const ca = await generate([{ name: 'commonName', value: 'meshlet-operator-ca' }], {
    ...common,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: 'meshlet-operator' }], {
    ...common,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: hosts.map((h) => (IP.test(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h })) },
    ],
  });
  return { caPem: ca.cert, certPem: leaf.cert, keyPem: leaf.private };
}
