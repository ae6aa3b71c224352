/** Runs `meshlet proxy` as a child process and learns its ports from the start-up log line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxySnapshot } from '../../../common/snapshot.ts';

const BIN = fileURLToPath(new URL('../../../bin/meshlet', import.meta.url));

export interface ProxyProcess {
  child: ChildProcess;
  bind: string;
  ports: { outbound: number; inbound: number; admin: number; ready: number; stats: number };
  /** All stdout lines so far (JSON logs). */
  logs: string[];
  /** Writes a new snapshot file (for file-based tests). */
  dir: string;
  stop(): Promise<number | null>;
}

export async function startProxyProcess(opts: { bind: string; snapshot?: ProxySnapshot; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<ProxyProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-proxy-'));
  const args = ['proxy', '--bind', opts.bind, '--admin-address', opts.bind, '--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--ready-port', '0', '--stats-port', '0', '--log-level', 'info'];
  if (opts.snapshot !== undefined) {
    const file = join(dir, 'snapshot.json');
    writeFileSync(file, JSON.stringify(opts.snapshot));
    args.push('--config-file', file);
  }
  args.push(...(opts.args ?? []));
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const logs: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ports = await new Promise<ProxyProcess['ports']>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`proxy did not start in 15 s: ${stderr}`)), 15_000);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        if (line.includes('"proxy listening"')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { ports: ProxyProcess['ports'] }).ports);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited with ${code}: ${stderr}`));
    });
  });
  return {
    child,
    bind: opts.bind,
    ports,
    logs,
    dir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 7_000);
      const code = await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
