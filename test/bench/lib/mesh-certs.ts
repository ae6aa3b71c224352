/**
 * Workload certificates for the mTLS variants, issued by the real meshlet CA (operator/ca) as
 * the operator issues them (ECDSA P-256, SPIFFE URI SAN), written to files that both
 * `meshlet proxy --cert-file/--key-file/--root-file` and nginx read.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '../../../operator/ca/authority.ts';
import { DirectoryCaStore } from '../../../operator/ca/dir-store.ts';
import { describeLeaf, newKeyAndCsr } from '../../../proxy/security/workload-cert.ts';

export interface CertFiles {
  identity: string;
  cert: string;
  key: string;
  root: string;
  /** `meshlet proxy` flags that load these files. */
  proxyArgs: string[];
}

export interface MeshCerts {
  issue: (ns: string, sa: string) => Promise<CertFiles>;
}

export async function meshCa(): Promise<MeshCerts> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-bench-certs-'));
  const ca = await CertificateAuthority.loadOrCreate(new DirectoryCaStore(join(dir, 'ca')), { trustDomain: 'cluster.local' });
  return {
    issue: async (ns, sa) => {
      const { keyPem, csrPem } = await newKeyAndCsr();
      const out = await ca.sign(csrPem, `spiffe://cluster.local/ns/${ns}/sa/${sa}`, 24 * 3600_000);
      const [cert, key, root] = ['crt', 'key', 'root'].map((x) => join(dir, `${ns}.${sa}.${x}`)) as [string, string, string];
      writeFileSync(cert, out.certChainPem);
      writeFileSync(key, keyPem, { mode: 0o600 });
      writeFileSync(root, out.rootCertPem);
      return { identity: describeLeaf(out.certChainPem).identity, cert, key, root, proxyArgs: ['--cert-file', cert, '--key-file', key, '--root-file', root] };
    },
  };
}
