/**
 * Where the proxy's workload certificate comes from: the operator's `POST /v1/certificates`
 * (a pod, `meshlet local`, or `--ca-url` in file mode) or fixed PEM files (`--cert-file`,
 * `--key-file`, `--root-file`: tests and hand-run proxies; no rotation).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from '../common/log.ts';
import { createCertRequester } from './security/cert-client.ts';
import { describeLeaf, WorkloadCertManager, type WorkloadCert } from './security/workload-cert.ts';

export type CertSource =
  | { kind: 'files'; certFile: string; keyFile: string; rootFile: string }
  | { kind: 'operator'; url: string; tokenFile: string; caFile?: string; operatorIdentity?: string; trustDomain: string };

/** A manager serving one certificate read from files; never renews. */
export class StaticCertManager extends WorkloadCertManager {
  readonly #cert: WorkloadCert;
  constructor(files: { certFile: string; keyFile: string; rootFile: string }) {
    super({ request: () => Promise.reject(new Error('static certificate')) });
    const certChainPem = readFileSync(files.certFile, 'utf8');
    const leaf = describeLeaf(certChainPem);
    this.#cert = {
      keyPem: readFileSync(files.keyFile, 'utf8'), certChainPem, rootCertPem: readFileSync(files.rootFile, 'utf8'),
      identity: leaf.identity, serial: leaf.serial, notBefore: leaf.notBefore, notAfter: leaf.notAfter, generation: 1,
    };
  }
  override start(): Promise<WorkloadCert> {
    return Promise.resolve(this.#cert);
  }
  override rotateNow(): Promise<WorkloadCert> {
    return Promise.resolve(this.#cert);
  }
  override current(): WorkloadCert {
    return this.#cert;
  }
}

export function certManager(src: CertSource, log?: Logger): WorkloadCertManager {
  if (src.kind === 'files') return new StaticCertManager(src);
  const caPem = src.caFile === undefined ? undefined : readFileSync(src.caFile, 'utf8');
  const request = createCertRequester({
    operatorUrl: src.url, tokenFile: src.tokenFile, trustDomain: src.trustDomain,
    ...(caPem === undefined ? {} : { caPem }), ...(src.operatorIdentity === undefined ? {} : { operatorIdentity: src.operatorIdentity }),
  });
  return new WorkloadCertManager({ request, ...(log === undefined ? {} : { log }) });
}

/** Whether a token file to authenticate the CSR exists (without one, no mTLS: plaintext mesh). */
export function tokenAvailable(file: string): boolean {
  return existsSync(file);
}
