/**
 * When the workload certificate is renewed, and how soon a failed renewal is retried. Pure
 * functions of the certificate's validity and the injected clock's time.
 */

/** Share of the usable lifetime after which renewal is due (half-life, as DESIGN.md says). */
export const RENEW_FRACTION = 0.5;
/** Never renew sooner than this after a certificate arrived: a floor against renewal storms. */
export const RENEW_FLOOR_MS = 5_000;
/** Longest wait between two failed attempts. */
export const RETRY_MAX_MS = 300_000;

/**
 * Renewal time. The lifetime counts from the later of notBefore and the moment the cert
 * arrived: the CA backdates notBefore for clock skew (60 s), and with a 1-minute TTL half of
 * notBefore→notAfter is already over on arrival (renewal due at once, again and again).
 */
export function renewAtMs(cert: { notBefore: Date; notAfter: Date }, receivedAtMs: number): number {
  const start = Math.max(cert.notBefore.getTime(), receivedAtMs);
  return receivedAtMs + Math.max(RENEW_FLOOR_MS, start - receivedAtMs + RENEW_FRACTION * (cert.notAfter.getTime() - start));
}

/**
 * Delay before retry number `failures` (1, 2, …): doubling from `baseMs` up to RETRY_MAX_MS,
 * but never more than a quarter of the current cert's remaining life (at least `baseMs`), so a
 * CA that comes back after a long outage is found within a fraction of what is left, and an
 * expired proxy tries every `baseMs`.
 */
export function retryDelayMs(failures: number, baseMs: number, notAfterMs: number | undefined, nowMs: number): number {
  const doubling = Math.min(baseMs * 2 ** Math.max(0, failures - 1), RETRY_MAX_MS);
  if (notAfterMs === undefined) return doubling;
  return Math.min(doubling, Math.max(baseMs, (notAfterMs - nowMs) / 4));
}
