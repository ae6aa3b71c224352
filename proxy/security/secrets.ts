/**
 * Data for `meshlet proxy-config <proxy> secrets` (served by the proxy's admin port) and the
 * proxy's cert expiry gauge: each certificate's identity, serial, validity — never key material.
 */
import { X509Certificate } from 'node:crypto';
import { Gauge, type Registry } from '../telemetry/prom-lite.ts';
import { splitPemCerts } from '../../common/security/keys.ts';
import type { WorkloadCert } from './workload-cert.ts';

export interface SecretSummary {
  /** `default` (the workload cert) or `ROOTCA` (a trust anchor), as Envoy's secret names. */
  name: 'default' | 'ROOTCA';
  identity: string;
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  secondsUntilExpiry: number;
}

function summary(name: SecretSummary['name'], pem: string, nowMs: number): SecretSummary {
  const c = new X509Certificate(pem);
  const uri = /URI:([^,]+)/.exec(c.subjectAltName ?? '')?.[1] ?? '';
  const notAfter = new Date(c.validTo);
  return {
    name, identity: uri, subject: c.subject, serial: c.serialNumber.toLowerCase(), notBefore: new Date(c.validFrom).toISOString(),
    notAfter: notAfter.toISOString(), secondsUntilExpiry: Math.floor((notAfter.getTime() - nowMs) / 1000),
  };
}

/** The workload cert (leaf) and each root, in that order; empty before the first cert. */
export function describeSecrets(cert: WorkloadCert | undefined, nowMs: number): SecretSummary[] {
  if (cert === undefined) return [];
  const leaf = splitPemCerts(cert.certChainPem)[0];
  const out: SecretSummary[] = leaf === undefined ? [] : [summary('default', leaf, nowMs)];
  for (const root of splitPemCerts(cert.rootCertPem)) out.push(summary('ROOTCA', root, nowMs));
  return out;
}

/** `meshlet_proxy_cert_expiry_seconds{name}`: seconds until the workload cert and roots expire. */
export function registerProxyCertExpiryGauge(registry: Registry, getCert: () => WorkloadCert | undefined, now: () => number = Date.now): Gauge<'name'> {
  return new Gauge({
    name: 'meshlet_proxy_cert_expiry_seconds',
    help: 'Seconds until the workload certificate (name="default") or a root (name="ROOTCA") expires',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      this.reset();
      const secs = describeSecrets(getCert(), now());
      const byName = new Map<string, number>();
      for (const s of secs) byName.set(s.name, Math.min(byName.get(s.name) ?? Infinity, s.secondsUntilExpiry));
      for (const [name, v] of byName) this.set({ name }, v);
    },
  });
}
