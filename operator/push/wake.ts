/**
 * A long-poll wait: resolves when a waker in `waiters` is called (a change), when `holdMs`
 * passed, or when the caller left (`signal`), whichever comes first; cleans up after itself.
 */
export function waitForWake(waiters: Set<() => void>, holdMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      waiters.delete(done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, holdMs);
    waiters.add(done);
    signal?.addEventListener('abort', done);
  });
}
