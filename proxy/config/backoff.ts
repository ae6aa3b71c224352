/** Full-jitter exponential backoff (AWS style): delay = random × min(max, base × 2^attempt). */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function backoffDelay(p: BackoffPolicy, attempt: number, random: () => number): number {
  const cap = Math.min(p.maxMs, p.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}
