import type { Clock } from '../../common/clock.ts';

/**
 * A long-poll wait: resolves when a waker in `waiters` is called (a change), when `holdMs`
 * passed on `clock`, or when the caller left (`signal`), whichever comes first; cleans up
 * after itself.
 */
export function waitForWake(waiters: Set<() => void>, holdMs: number, signal: AbortSignal | undefined, clock: Clock): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clock.clearTimeout(timer);
      waiters.delete(done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, holdMs);
    waiters.add(done);
    signal?.addEventListener('abort', done);
  });
}
