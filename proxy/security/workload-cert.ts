/**
 * The proxy's workload certificate: key generated in memory (never written), CSR sent with
 * the projected token, renewed at half of its usable life (renewal.ts). Clock and timers are
 * injectable so tests can drive rotation without waiting. Listeners are told of each new cert so the inbound TLS
 * server can `setSecureContext` and client pools can switch contexts for new connections.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { Logger } from '../../common/log.ts';
import { exportPrivateKeyPem, generateP256, SIGN_ECDSA_SHA256 } from '../../common/security/keys.ts';
import { renewAtMs, retryDelayMs } from './renewal.ts';

export interface WorkloadCert {
  keyPem: string;
  /** Leaf followed by the CA chain. */
  certChainPem: string;
  rootCertPem: string;
  identity: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** Increments with every new cert; lets caches tell generations apart. */
  generation: number;
}

/** What the operator answers to `POST /v1/certificates`. */
export interface IssuedCertificate {
  certChain: string;
  rootCert: string;
}

export type Scheduler = (fn: () => void, delayMs: number) => () => void;

export interface CertManagerOptions {
  /** Sends the CSR (PEM) with the token; returns the issued chain. */
  request: (csrPem: string) => Promise<IssuedCertificate>;
  now?: () => number;
  schedule?: Scheduler;
  /** First retry delay after a failed renewal, doubled up to 5 min (renewal.ts). */
  retryBaseMs?: number;
  log?: Logger;
}

const realSchedule: Scheduler = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

/** A fresh P-256 key (PKCS#8 PEM, in memory only) and a CSR for it. */
export async function newKeyAndCsr(): Promise<{ keyPem: string; csrPem: string }> {
  // @peculiar/x509 (and its ASN.1 schema and DI container) costs a proxy ~6 MB: loaded only
  // by a proxy that requests certificates, the first time it does.
  const { x509 } = await import('../../common/security/x509.ts');
  const keys = await generateP256();
  // The CA ignores the subject and SANs; the CSR only proves possession of the key.
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'O=meshlet', keys, signingAlgorithm: SIGN_ECDSA_SHA256 });
  return { keyPem: await exportPrivateKeyPem(keys.privateKey), csrPem: csr.toString('pem') };
}

/** Reads identity, serial and validity from an issued chain. */
export function describeLeaf(certChainPem: string): { identity: string; serial: string; notBefore: Date; notAfter: Date; sha256: string } {
  const leaf = new X509Certificate(certChainPem);
  const uri = /URI:([^,]+)/.exec(leaf.subjectAltName ?? '')?.[1] ?? '';
  return {
    identity: uri, serial: leaf.serialNumber.toLowerCase(), notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo),
    sha256: createHash('sha256').update(leaf.raw).digest('hex'),
  };
}

export class WorkloadCertManager {
  readonly #opts: CertManagerOptions;
  readonly #now: () => number;
  readonly #schedule: Scheduler;
  readonly #listeners: ((c: WorkloadCert) => void)[] = [];
  #firstWaiters: ((c: WorkloadCert) => void)[] = [];
  #current: WorkloadCert | undefined;
  #cancel: (() => void) | undefined;
  #failures = 0;
  #stopped = false;
  #inFlight = false;

  constructor(opts: CertManagerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#schedule = opts.schedule ?? realSchedule;
  }

  /**
   * Obtains the first certificate and schedules renewals. With the CA unreachable it keeps
   * retrying on the backoff (each failure logged) and resolves with the first certificate;
   * a proxy must not exit because the operator starts after it.
   */
  async start(): Promise<WorkloadCert> {
    try {
      return await this.rotateNow();
    } catch {
      // Retry timers are unref'd (they must not hold a stopping proxy); here nothing else
      // keeps the process alive until the first certificate arrives.
      const hold = setInterval(() => undefined, 60_000);
      return new Promise((resolve) => this.#firstWaiters.push((c) => {
        clearInterval(hold);
        resolve(c);
      }));
    }
  }

  current(): WorkloadCert | undefined {
    return this.#current;
  }

  onRotate(fn: (c: WorkloadCert) => void): void {
    this.#listeners.push(fn);
  }

  /** Fetches a new certificate now; on failure keeps the current one and retries with backoff. */
  async rotateNow(): Promise<WorkloadCert> {
    this.#cancel?.();
    this.#inFlight = true;
    try {
      const { keyPem, csrPem } = await newKeyAndCsr();
      const issued = await this.#opts.request(csrPem);
      const receivedAt = this.#now();
      const leaf = describeLeaf(issued.certChain);
      const cert: WorkloadCert = {
        keyPem, certChainPem: issued.certChain, rootCertPem: issued.rootCert, identity: leaf.identity, serial: leaf.serial,
        notBefore: leaf.notBefore, notAfter: leaf.notAfter, generation: (this.#current?.generation ?? 0) + 1,
      };
      this.#current = cert;
      this.#failures = 0;
      this.#scheduleAt(renewAtMs(cert, receivedAt));
      for (const fn of this.#listeners) fn(cert);
      for (const fn of this.#firstWaiters.splice(0)) fn(cert);
      return cert;
    } catch (err) {
      this.#failures += 1;
      const delay = retryDelayMs(this.#failures, this.#opts.retryBaseMs ?? 1000, this.#current?.notAfter.getTime(), this.#now());
      this.#opts.log?.warn({ code: 'MESHLET_SECURITY_CERT_FETCH', err: (err as Error).message, retryInMs: delay }, 'workload certificate fetch failed');
      if (!this.#stopped) this.#cancel = this.#schedule(() => void this.rotateNow().catch(() => undefined), delay);
      throw err;
    } finally {
      this.#inFlight = false;
    }
  }

  /**
   * The operator answered (e.g. the config stream got a reply): a renewal waiting out its
   * backoff from an outage is tried now, with the backoff reset.
   */
  operatorAnswered(): void {
    if (this.#failures === 0 || this.#inFlight || this.#stopped) return;
    this.#failures = 0;
    void this.rotateNow().catch(() => undefined);
  }

  #scheduleAt(at: number): void {
    if (this.#stopped) return;
    this.#cancel = this.#schedule(() => void this.rotateNow().catch(() => undefined), Math.max(0, at - this.#now()));
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }
}
