// `bin/meshlet <subcommand>` as a real child process for the chart tests, with its output
// kept for failure messages and a stop() that always reaps it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { trackChild } from '../cluster/reaper.ts';
import { ROOT } from './helm.ts';

export interface MeshletProcess {
  /** Exit code, or null while it runs. */
  exitCode(): number | null;
  output(): string;
  stop(): Promise<void>;
}

const MAX_OUTPUT = 200_000;

export function startMeshletProcess(args: string[]): MeshletProcess {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'meshlet'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MESHLET_LOG_LEVEL: process.env.MESHLET_LOG_LEVEL ?? 'info' } });
  // The harness reaper kills it if this test process exits without stop().
  trackChild(child);
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString('utf8')).slice(-MAX_OUTPUT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let code: number | null = null;
  child.once('exit', (c, signal) => {
    code = c ?? (signal === null ? -1 : 128);
  });
  return {
    exitCode: () => code,
    output: () => out,
    async stop() {
      if (code !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
