/**
 * Runs `meshlet local <dir>` as a child process for tests: waits for its ready line (which
 * names the operator URL), keeps its output, and stops it with SIGINT (as Ctrl-C does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/meshlet', import.meta.url));

export interface LocalProcess {
  proc: ChildProcess;
  operatorUrl: string;
  output(): string;
  /** SIGINT, then the exit code (SIGKILL after 20 s so a test never hangs). */
  stop(): Promise<number | null>;
}

export async function startLocal(dir: string, extra: string[] = []): Promise<LocalProcess> {
  const proc = spawn(process.execPath, [BIN, 'local', dir, '--push-port', '0', '--monitor-port', '0', '--no-color', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('close', (c) => r(c)));
  const stop = async (): Promise<number | null> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill('SIGINT');
    const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`meshlet local not ready in 60 s:\n${out}`)), 60_000);
    const check = (): void => {
      const m = /local \| ready: .*MESHLET_OPERATOR=(\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(t);
      reject(new Error(`meshlet local exited early:\n${out}`));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { proc, operatorUrl: url, output: () => out, stop };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request through a proxy as an explicit HTTP proxy (absolute URI), as the apps do. */
export function viaProxy(proxy: { host: string; port: number }, url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: proxy.host, port: proxy.port, method: opts.method ?? 'GET', path: u.href, headers: { ...opts.headers, host: u.host }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.method === 'POST' ? 'x' : undefined);
  });
}

/** Polls `probe` until it returns true, at most `tries` times `everyMs` apart. */
export async function eventually(probe: () => Promise<boolean>, tries: number, everyMs: number): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    try {
      if (await probe()) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}
