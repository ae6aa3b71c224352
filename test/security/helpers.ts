/**
 * Test helpers: a CA in a temp directory and workload certs issued by it (through the real
 * CertificateAuthority, as the operator does), with an injectable clock for expired certs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '../../operator/ca/authority.ts';
import { DirectoryCaStore } from '../../operator/ca/dir-store.ts';
import { describeLeaf, newKeyAndCsr, type WorkloadCert } from '../../proxy/security/workload-cert.ts';

export const TD = 'cluster.local';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `meshlet-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function testCa(dir: string, now?: () => number): Promise<CertificateAuthority> {
  return CertificateAuthority.loadOrCreate(new DirectoryCaStore(dir), now === undefined ? { trustDomain: TD } : { trustDomain: TD, now });
}

let generation = 0;

/** Issues a workload cert for `ns/sa` straight from the CA (ttl in ms). */
export async function issue(ca: CertificateAuthority, ns: string, sa: string, ttlMs = 24 * 3600 * 1000): Promise<WorkloadCert> {
  const { keyPem, csrPem } = await newKeyAndCsr();
  const out = await ca.sign(csrPem, `spiffe://${TD}/ns/${ns}/sa/${sa}`, ttlMs);
  const leaf = describeLeaf(out.certChainPem);
  generation += 1;
  return { keyPem, certChainPem: out.certChainPem, rootCertPem: out.rootCertPem, identity: leaf.identity, serial: leaf.serial, notBefore: leaf.notBefore, notAfter: leaf.notAfter, generation };
}
