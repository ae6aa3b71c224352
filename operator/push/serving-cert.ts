/**
 * A throwaway CA and serving certificate for the push server (15012) until the mesh CA
 * serves it: the CA PEM is written to a file so proxies and tests can trust it.
 */
import { issueServingCert, type ServingCert } from '../../common/security/serving-cert.ts';
import { ROOT_NAMESPACE } from '../world/objects.ts';

export function defaultServingHosts(): string[] {
  const svc = 'meshlet';
  return ['127.0.0.1', 'localhost', svc, `${svc}.${ROOT_NAMESPACE}`, `${svc}.${ROOT_NAMESPACE}.svc`, `${svc}.${ROOT_NAMESPACE}.svc.cluster.local`];
}

/** The push server's own certificate (one year) until the mesh CA serves it. */
export async function issuePushServingCert(hosts: string[] = defaultServingHosts(), validityMs = 365 * 24 * 3600 * 1000, now = new Date()): Promise<ServingCert> {
  return issueServingCert(hosts, now, validityMs, 'meshlet-operator-ca');
}
