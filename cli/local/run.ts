/**
 * `meshlet local <dir>`: the operator in-process on the directory, one `meshlet proxy`
 * child per meshed WorkloadEntry (bound to the entry's loopback address), then the
 * workloads' own commands with HTTP_PROXY pointing at their proxy. Everything stops on
 * `stop()` (SIGINT/SIGTERM in the command), children first, then the operator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../common/log.ts';
import { runOperator, type RunningOperator } from '../../operator/run.ts';
import { readDirectoryObjects } from '../../operator/sources/local-dir.ts';
import { spawnChild, stopChildren, type Child } from './children.ts';
import { humanLogLine } from './log-lines.ts';
import { appEnv, planLocal, type LocalPlan } from './plan.ts';

const BIN = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));

export interface LocalOptions {
  dir: string;
  pushPort: number;
  monitorPort: number;
  /** Outbound (explicit proxy) port of every proxy, on its own address. */
  proxyPort: number;
  /** Start the workloads' commands (default true). */
  apps: boolean;
  out: NodeJS.WritableStream;
  color: boolean;
  logLevel: string;
  /** Seed for the proxies' random source (reproducible splits in tests). */
  seed?: number;
  graceMs: number;
}

export interface RunningLocal {
  plan: LocalPlan;
  operator: RunningOperator;
  operatorUrl: string;
  children: Child[];
  /** Resolves when every child has exited. */
  stop(): Promise<void>;
}

function lineWriter(prefix: string, out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') out.write(`${prefix}${humanLogLine(l)}\n`);
      cb();
    },
  });
}

async function waitReady(url: string, timeoutMs: number, exited: Promise<unknown>): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gone) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export async function runLocal(o: LocalOptions): Promise<RunningLocal> {
  const dir = resolve(o.dir);
  const { objects } = readDirectoryObjects(dir);
  const plan = planLocal(objects, dir);
  const width = Math.max(8, ...plan.workloads.map((w) => w.name.length + 6));
  const say = (s: string): void => void o.out.write(`${'local'.padEnd(width)} | ${s}\n`);
  for (const p of plan.problems) say(`skipped: ${p}`);
  const tmp = mkdtempSync(join(tmpdir(), 'meshlet-local-'));
  const caFile = join(tmp, 'operator-ca.pem');
  const log = createLogger({ component: 'operator', level: o.logLevel, destination: lineWriter(`${'operator'.padEnd(width)} | `, o.out) });
  const operator = await runOperator({ log, local: dir, address: '127.0.0.1', pushPort: o.pushPort, monitorPort: o.monitorPort, caFile, holdMs: 30_000, noStatus: true });
  const operatorUrl = `http://127.0.0.1:${operator.monitorPort}`;
  say(`operator watching ${dir}: push https://127.0.0.1:${operator.pushPort}, debug ${operatorUrl}`);
  const children: Child[] = [];
  let stopping = false;
  // A child that dies on its own is worth a line: the user sees which one and why.
  const watchExit = (c: Child): void => {
    void c.exited.then((code) => {
      if (!stopping) say(`${c.name} exited${code === null ? '' : ` with code ${code}`} (the rest keeps running)`);
    });
  };
  // Apps run with the same Node as meshlet (first on PATH), whatever node the shell has.
  const basePath = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
  const stop = async (): Promise<void> => {
    stopping = true;
    await stopChildren([...children].reverse(), o.graceMs);
    await operator.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const proxies = plan.workloads.filter((w) => w.proxied);
    for (const w of proxies) {
      const args = [BIN, 'proxy', '--operator', `https://127.0.0.1:${operator.pushPort}`, '--ca-file', caFile, '--pod', w.name, '--namespace', w.namespace, '--service-account', w.serviceAccount,
        '--pod-ip', w.address, '--bind', w.address, '--admin-address', w.address, '--outbound-port', String(o.proxyPort), '--app-host', w.address, '--inbound-source', '', '--log-level', o.logLevel, '--backoff-base-ms', '200'];
      if (o.seed !== undefined) args.push('--seed', String(o.seed));
      children.push(spawnChild({ name: `${w.name}~proxy`, command: process.execPath, args, env: { ...process.env, PATH: basePath, MESHLET_LOG_LEVEL: o.logLevel }, out: o.out, format: humanLogLine, color: o.color }, width));
    }
    children.forEach(watchExit);
    const ready = await Promise.all(proxies.map((w, i) => waitReady(`http://${w.address}:15021/healthz/ready`, 20_000, children[i]!.exited)));
    proxies.forEach((w, i) => say(ready[i] === true ? `proxy ${w.name}.${w.namespace} ready on ${w.address} (explicit proxy http://${w.address}:${o.proxyPort}, admin http://${w.address}:15000)` : `proxy ${w.name}.${w.namespace} did not become ready on ${w.address}`));
    if (o.apps) {
      for (const w of plan.workloads.filter((x) => x.command !== undefined)) {
        const env = { ...process.env, PATH: basePath, ...appEnv(w, o.proxyPort) };
        const app = spawnChild({ name: w.name, command: w.command!, shell: true, cwd: w.cwd, env, out: o.out, color: o.color }, width);
        children.push(app);
        watchExit(app);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { plan, operator, operatorUrl, children, stop };
}
