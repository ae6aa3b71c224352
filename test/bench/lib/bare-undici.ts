/** Starts the bare node:http + undici reference proxy (bare-undici-proxy.ts), pinned to a CPU. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Running } from './reference-proxies.ts';

export function startBareUndici(cpu: number, host: string, port: number, upstream: string, nodeFlags: string[] = []): Running {
  const script = fileURLToPath(new URL('./bare-undici-proxy.ts', import.meta.url));
  const proc = spawn('taskset', ['-c', String(cpu), process.execPath, ...nodeFlags, script, host, String(port), upstream], { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    proc,
    pids: () => [proc.pid ?? 0],
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}
