/**
 * Loopback addresses for one test file: 127.<block>.<pid-derived>.<n>, so parallel test
 * files (and other engineers' tests) do not collide on ports.
 */
let next = 1;
const third = (process.pid % 200) + 20;

export function allocAddress(block: number): string {
  const n = next++;
  if (n > 250) throw new Error('too many test addresses');
  return `127.${block}.${third}.${n}`;
}
