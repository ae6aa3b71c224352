/**
 * Child processes of `meshlet local`: each in its own process group (so stopping a shell
 * command also stops what it started), output split into lines and prefixed with the
 * workload's name, stopped with SIGTERM then SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const COLORS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

export interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args?: string[];
  /** Run through the shell (`sh -c`): for commands written in YAML. */
  shell?: boolean;
  cwd?: string;
  env: NodeJS.ProcessEnv;
  out: NodeJS.WritableStream;
  color?: boolean;
  /** Called with each complete output line (tests and readiness checks read it). */
  onLine?: (line: string) => void;
  /** Rewrites each line before it is printed (e.g. JSON logs made readable). */
  format?: (line: string) => string;
}

let colorIndex = 0;

/** Writes `prefix | line` for every complete line of `chunk`; keeps the partial tail. */
export function linePrefixer(prefix: string, write: (s: string) => void, onLine?: (l: string) => void, format: (l: string) => string = (l) => l): { push(chunk: Buffer | string): void; flush(): void } {
  let tail = '';
  return {
    push(chunk) {
      const text = tail + chunk.toString();
      const lines = text.split('\n');
      tail = lines.pop() ?? '';
      for (const l of lines) {
        write(`${prefix}${format(l)}\n`);
        onLine?.(l);
      }
    },
    flush() {
      if (tail !== '') {
        write(`${prefix}${format(tail)}\n`);
        onLine?.(tail);
      }
      tail = '';
    },
  };
}

export function spawnChild(o: SpawnOptions, width: number): Child {
  const proc = spawn(o.command, o.args ?? [], { cwd: o.cwd, env: o.env, shell: o.shell === true, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const code = COLORS[colorIndex++ % COLORS.length];
  const label = o.name.padEnd(width);
  const prefix = o.color === true ? `\x1b[${code}m${label}\x1b[0m | ` : `${label} | `;
  const write = (s: string): void => {
    o.out.write(s);
  };
  const pOut = linePrefixer(prefix, write, o.onLine, o.format);
  const pErr = linePrefixer(prefix, write, o.onLine, o.format);
  proc.stdout?.on('data', (c: Buffer) => pOut.push(c));
  proc.stderr?.on('data', (c: Buffer) => pErr.push(c));
  const exited = new Promise<number | null>((resolveExit) => {
    proc.once('error', (err) => {
      write(`${prefix}failed to start: ${err.message}\n`);
      resolveExit(127);
    });
    proc.once('close', (c, sig) => {
      pOut.flush();
      pErr.flush();
      resolveExit(c ?? (sig === null ? null : 128));
    });
  });
  return { name: o.name, proc, exited };
}

function signalGroup(c: Child, sig: NodeJS.Signals): void {
  if (c.proc.pid === undefined || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  try {
    process.kill(-c.proc.pid, sig);
  } catch {
    try {
      c.proc.kill(sig);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM to every child's group, SIGKILL to those still running after `graceMs`. */
export async function stopChildren(children: readonly Child[], graceMs: number): Promise<void> {
  for (const c of children) signalGroup(c, 'SIGTERM');
  const all = Promise.all(children.map((c) => c.exited));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), graceMs)));
  const res = await Promise.race([all, timedOut]);
  clearTimeout(timer);
  if (res === 'timeout') {
    for (const c of children) signalGroup(c, 'SIGKILL');
    let t2: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (t2 = setTimeout(r, 2000)))]);
    clearTimeout(t2);
  }
}
