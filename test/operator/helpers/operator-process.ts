/** Runs `meshlet operator` as a real child process and reads its JSON log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OperatorProcess {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  pushUrl: string;
  monitorUrl: string;
  caPem: string;
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number, what?: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startOperatorProcess(args: string[], caFile: string, timeoutMs = 20_000, ports: { push?: number; monitor?: number } = {}): Promise<OperatorProcess> {
  const proc = spawn(process.execPath, [join(process.cwd(), 'bin/meshlet'), 'operator', '--address', '127.0.0.1', '--push-port', String(ports.push ?? 0), '--monitor-port', String(ports.monitor ?? 0), '--ca-file', caFile, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buf = '';
  const listeners: (() => void)[] = [];
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ raw: line });
      }
      for (const l of listeners.splice(0)) l();
    }
  });
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const waitForLog = async (pred: (l: Record<string, unknown>) => boolean, t = 10_000, what = 'log line'): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + t;
    for (;;) {
      const hit = lines.find(pred);
      if (hit !== undefined) return hit;
      if (proc.exitCode !== null) throw new Error(`operator exited (${proc.exitCode}) before ${what}: ${stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${stderr.slice(-1000)}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 100);
        listeners.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  };
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  try {
    const ready = await waitForLog((l) => typeof l.pushPort === 'number', timeoutMs, 'operator ready');
    return { proc, lines, waitForLog, stop, pushUrl: `https://127.0.0.1:${ready.pushPort as number}`, monitorUrl: `http://127.0.0.1:${ready.monitorPort as number}`, caPem: readFileSync(caFile, 'utf8') };
  } catch (err) {
    await stop();
    throw err;
  }
}
