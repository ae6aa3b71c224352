/**
 * Where the webhook's serving certificate is shared between operator replicas: a Secret
 * (`meshlet-webhook-tls` in meshlet-system, type kubernetes.io/tls plus the CA and the
 * previous CA). Every replica serves the same certificate, so the one caBundle trusts them all;
 * writes use resourceVersion, and a replica that loses a race adopts the winner's certificate.
 */
import { X509Certificate } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { ServingCert } from '../common/security/serving-cert.ts';

export interface StoredCert {
  cert: ServingCert;
  previousCaPem?: string;
  /** resourceVersion of the Secret it came from. */
  version: string;
}

export type SaveResult = { ok: true; version: string } | { ok: false; reason: 'conflict' };

export interface CertStore {
  load(): Promise<StoredCert | null>;
  /** Creates (version undefined) or replaces (version given) the stored certificate. */
  save(cert: ServingCert, previousCaPem: string | undefined, version: string | undefined): Promise<SaveResult>;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined): string | undefined => (s === undefined ? undefined : Buffer.from(s, 'base64').toString());

export function secretToStored(s: V1Secret): StoredCert | null {
  const certPem = unb64(s.data?.['tls.crt']);
  const keyPem = unb64(s.data?.['tls.key']);
  const caPem = unb64(s.data?.['ca.crt']);
  if (certPem === undefined || keyPem === undefined || caPem === undefined) return null;
  try {
    const x = new X509Certificate(certPem);
    return {
      cert: { certPem, keyPem, caPem, notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) },
      previousCaPem: unb64(s.data?.['ca-previous.crt']),
      version: s.metadata?.resourceVersion ?? '',
    };
  } catch {
    return null; // unreadable: treated as absent and replaced
  }
}

export class SecretCertStore implements CertStore {
  private readonly api: CoreV1Api;
  private readonly namespace: string;
  private readonly name: string;

  constructor(kc: KubeConfig, namespace: string, name: string) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.namespace = namespace;
    this.name = name;
  }

  async load(): Promise<StoredCert | null> {
    try {
      return secretToStored(await this.api.readNamespacedSecret({ name: this.name, namespace: this.namespace }));
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw err;
    }
  }

  async save(cert: ServingCert, previousCaPem: string | undefined, version: string | undefined): Promise<SaveResult> {
    const data: Record<string, string> = { 'tls.crt': b64(cert.certPem), 'tls.key': b64(cert.keyPem), 'ca.crt': b64(cert.caPem) };
    if (previousCaPem !== undefined) data['ca-previous.crt'] = b64(previousCaPem);
    const body: V1Secret = {
      metadata: { name: this.name, namespace: this.namespace, labels: { 'app.kubernetes.io/part-of': 'meshlet' }, ...(version !== undefined && version !== '' ? { resourceVersion: version } : {}) },
      type: 'kubernetes.io/tls',
      data,
    };
    try {
      const res = version === undefined
        ? await this.api.createNamespacedSecret({ namespace: this.namespace, body })
        : await this.api.replaceNamespacedSecret({ name: this.name, namespace: this.namespace, body });
      return { ok: true, version: res.metadata?.resourceVersion ?? '' };
    } catch (err) {
      if ((err as { code?: number }).code === 409) return { ok: false, reason: 'conflict' };
      throw err;
    }
  }
}
