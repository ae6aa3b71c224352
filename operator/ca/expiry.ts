/**
 * Root expiry watch: a seconds-until-expiry gauge, and a warning log (with its catalog code)
 * once the root is within 30 days of expiry — trust-anchor expiry is the classic mesh outage.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../common/log.ts';
import type { CertificateAuthority } from './authority.ts';

export const ROOT_WARN_BEFORE_MS = 30 * 24 * 3600 * 1000;

/** Seconds until the CA's root (or signing cert, if earlier) expires; negative once expired. */
export function secondsUntilRootExpiry(ca: CertificateAuthority, nowMs: number): number {
  return Math.floor((ca.rootNotAfter.getTime() - nowMs) / 1000);
}

/** Registers `meshlet_ca_root_cert_expiry_seconds` on the registry, computed at scrape time. */
export function registerRootExpiryGauge(registry: Registry, getCa: () => CertificateAuthority, now: () => number = Date.now): Gauge {
  return new Gauge({
    name: 'meshlet_ca_root_cert_expiry_seconds',
    help: 'Seconds until the mesh root (or the CA signing certificate) expires',
    registers: [registry],
    collect() {
      this.set(secondsUntilRootExpiry(getCa(), now()));
    },
  });
}

/** Logs the warning when due; returns whether it warned. Call on start and periodically (daily). */
export function checkRootExpiry(ca: CertificateAuthority, nowMs: number, log: Logger): boolean {
  const left = ca.rootNotAfter.getTime() - nowMs;
  if (left > ROOT_WARN_BEFORE_MS) return false;
  log.warn({ code: 'MESHLET_SECURITY_ROOT_EXPIRING', notAfter: ca.rootNotAfter.toISOString(), secondsLeft: Math.floor(left / 1000) },
    'mesh root certificate expires within 30 days');
  return true;
}

/** Checks now and every `intervalMs` (daily by default); returns a stop function. */
export function watchRootExpiry(getCa: () => CertificateAuthority, log: Logger, opts: { now?: () => number; intervalMs?: number } = {}): () => void {
  const now = opts.now ?? Date.now;
  checkRootExpiry(getCa(), now(), log);
  const timer = setInterval(() => checkRootExpiry(getCa(), now(), log), opts.intervalMs ?? 24 * 3600 * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
