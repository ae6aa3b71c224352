// Obtains the pinned control-plane binaries: reuses them from the cache when
// their stamp matches, otherwise builds them from the wrapper Go modules under
// go/ (Go module proxy) and caches them. Only the build path needs Go.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { trackChild } from './reaper.ts';
import { BINARIES, MIN_GO_VERSION, cacheDir } from './versions.ts';
import type { BinaryName, BinarySpec } from './versions.ts';

const GO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'go');

export interface BinaryPaths {
  dir: string;
  kubeApiserver: string;
  kubectl: string;
  etcd: string;
  helm: string;
}

export interface EnsureOptions {
  /** Progress lines; default: stderr with a `[meshlet k8s]` prefix. */
  log?: (line: string) => void;
}

/** An error whose message is meant for the user as is (no stack needed). */
export class HarnessError extends Error {
  override name = 'HarnessError';
}

export function defaultLog(line: string): void {
  process.stderr.write(`[meshlet k8s] ${line}\n`);
}

function stampOf(spec: BinarySpec<string>, goDir: string): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ name: spec.name, pkg: spec.pkg, version: spec.version, ldflags: spec.ldflags }));
  for (const file of ['go.mod', 'go.sum']) hash.update(readFileSync(join(goDir, spec.module, file)));
  return hash.digest('hex');
}

function isCurrent(dir: string, spec: BinarySpec<string>, goDir: string): boolean {
  const bin = join(dir, spec.name);
  try {
    accessSync(bin, constants.X_OK);
    return readFileSync(`${bin}.stamp`, 'utf8').trim() === stampOf(spec, goDir);
  } catch {
    return false;
  }
}

function pathsIn(dir: string): BinaryPaths {
  const p = (name: BinaryName): string => join(dir, name);
  return { dir, kubeApiserver: p('kube-apiserver'), kubectl: p('kubectl'), etcd: p('etcd'), helm: p('helm') };
}

/** Paths of the cached binaries, or null when any is missing or stale. Never builds. */
export function cachedBinaries(): BinaryPaths | null {
  const dir = cacheDir();
  return BINARIES.every((spec) => isCurrent(dir, spec, GO_DIR)) ? pathsIn(dir) : null;
}

export async function ensureBinaries(options: EnsureOptions = {}): Promise<BinaryPaths> {
  await ensureBuilt(BINARIES, GO_DIR, cacheDir(), options.log ?? defaultLog);
  return pathsIn(cacheDir());
}

/**
 * Builds the specs whose cached binary (in `dir`) is missing or stale, from the wrapper
 * modules under `goDir`. Other harnesses (test/node) use it with their own wrapper modules;
 * the lock is per cache directory, so parallel builders wait for each other.
 */
export async function ensureBuilt(specs: readonly BinarySpec<string>[], goDir: string, dir: string, log: (line: string) => void = defaultLog): Promise<void> {
  if (specs.every((spec) => isCurrent(dir, spec, goDir))) return;

  mkdirSync(dir, { recursive: true });
  const release = await lock(dir, log);
  try {
    const missing = specs.filter((spec) => !isCurrent(dir, spec, goDir));
    if (missing.length === 0) return;
    // Half-written outputs of a build that was killed; we hold the lock, so none is live.
    for (const f of readdirSync(dir)) if (f.startsWith('.') && f.endsWith('.tmp')) rmSync(join(dir, f), { force: true });
    log(`building ${missing.map((s) => `${s.name} ${s.version}`).join(', ')} into ${dir} (first run only; takes several minutes)`);
    const go = await checkGo();
    log(`using ${go.version} (${go.path})`);
    const started = Date.now();
    for (const spec of missing) await build(go.path, dir, spec, goDir, log);
    log(`all binaries built in ${formatDuration(Date.now() - started)}`);
  } finally {
    release();
  }
}

// ---------------------------------------------------------------- Go checks

interface GoInfo {
  path: string;
  version: string;
}

function goBinary(): string {
  const fromEnv = process.env.MESHLET_GO;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'go';
}

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CGO_ENABLED: '0',
    // A too-old Go must fail with our message, not silently fetch a toolchain.
    GOTOOLCHAIN: 'local',
    // go.sum is committed: the build must use exactly what it lists.
    GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly -buildvcs=false`.trim(),
  };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

async function checkGo(): Promise<GoInfo> {
  const path = goBinary();
  let result: RunResult;
  try {
    result = await run(path, ['env', 'GOVERSION'], { env: goEnv() });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new HarnessError(
        `Go is needed to build kube-apiserver/etcd/kubectl/helm once, but \`${path}\` was not found on PATH. ` +
          `Install Go >= ${MIN_GO_VERSION} (https://go.dev/dl/) or set MESHLET_GO=/path/to/go.`,
      );
    }
    throw err;
  }
  const out = result.stdout.trim();
  const match = /^go(\d+(?:\.\d+){1,2})/.exec(out);
  if (result.code !== 0 || match === null) {
    throw new HarnessError(`\`${path} env GOVERSION\` failed (exit ${result.code}): ${(result.stderr || out).trim().slice(0, 500)}`);
  }
  const version = match[1] ?? '';
  if (compareVersions(version, MIN_GO_VERSION) < 0) {
    throw new HarnessError(
      `Go ${version} (${path}) is too old: building the pinned Kubernetes binaries needs Go >= ${MIN_GO_VERSION}. ` +
        `Install a newer Go (https://go.dev/dl/) or set MESHLET_GO=/path/to/go.`,
    );
  }
  return { path, version: out };
}

const NETWORK_ERROR = /dial tcp|no such host|connection refused|i\/o timeout|TLS handshake timeout|proxyconnect|network is unreachable|timeout awaiting|Client\.Timeout|connection reset|server misbehaving/i;

/** Turns a failed `go` command into a message; proxy trouble gets its own. */
async function goFailure(go: string, what: string, result: RunResult): Promise<HarnessError> {
  // -v package names are progress, not diagnostics.
  const detail = result.stderr.split('\n').filter((l) => l !== '' && !/^[\w./-]+$/.test(l)).slice(-30).join('\n');
  if (NETWORK_ERROR.test(result.stderr)) {
    const proxy = (await run(go, ['env', 'GOPROXY'], { env: goEnv() }).catch(() => null))?.stdout.trim() ?? '?';
    return new HarnessError(
      `cannot reach the Go module proxy (GOPROXY=${proxy}) to download the sources for ${what}. ` +
        `Check the network or set GOPROXY to a reachable proxy.\n${detail.split('\n').slice(-5).join('\n')}`,
    );
  }
  return new HarnessError(`${what} failed (exit ${result.code}):\n${detail}`);
}

async function build(go: string, dir: string, spec: BinarySpec<string>, goDir: string, log: (line: string) => void): Promise<void> {
  const cwd = join(goDir, spec.module);
  const env = goEnv();
  // Resolving the package graph downloads just the modules it needs (far less
  // than `go mod download`), and the package count gives a rough percentage.
  log(`resolving ${spec.pkg} (fetches sources from the Go module proxy unless already in the module cache)`);
  const resolveStart = Date.now();
  const resolveTimer = setInterval(() => log(`still resolving ${spec.name} (downloading modules), ${formatDuration(Date.now() - resolveStart)} elapsed`), 20_000);
  const list = await run(go, ['list', '-deps', spec.pkg], { cwd, env }).finally(() => clearInterval(resolveTimer));
  if (list.code !== 0) throw await goFailure(go, `resolving ${spec.name}`, list);
  const total = list.stdout.split('\n').filter(Boolean).length;
  const tmp = join(dir, `.${spec.name}.${process.pid}.tmp`);
  const ldflags = ['-s', '-w', ...spec.ldflags].join(' ');
  const started = Date.now();
  let compiled = 0;
  const progress = (): string =>
    `${spec.name} ${spec.version}: ${compiled}${total > 0 ? `/${total}` : ''} packages compiled, ${formatDuration(Date.now() - started)} elapsed`;
  log(`building ${spec.name} ${spec.version} (${total > 0 ? `${total} packages` : 'go build'})`);
  const timer = setInterval(() => log(progress()), 20_000);
  let result: RunResult;
  try {
    result = await run(go, ['build', '-v', '-trimpath', '-ldflags', ldflags, '-o', tmp, spec.pkg], {
      cwd,
      env,
      onStderrLine: (line) => {
        if (/^[\w./-]+$/.test(line)) compiled++;
      },
    });
  } finally {
    clearInterval(timer);
  }
  if (result.code !== 0) {
    rmSync(tmp, { force: true });
    throw await goFailure(go, `building ${spec.name}`, result);
  }
  renameSync(tmp, join(dir, spec.name));
  writeFileSync(join(dir, `${spec.name}.stamp`), `${stampOf(spec, goDir)}\n`);
  log(`built ${spec.name} ${spec.version} in ${formatDuration(Date.now() - started)}`);
}

// ---------------------------------------------------------------- lock

/** Serialises builds across parallel test processes; a dead holder's lock is taken over. */
async function lock(dir: string, log: (line: string) => void): Promise<() => void> {
  const lockDir = join(dir, '.build.lock');
  const ownerFile = join(lockDir, 'pid');
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(ownerFile, String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = Number.NaN;
    try {
      owner = Number.parseInt(readFileSync(ownerFile, 'utf8'), 10);
    } catch {
      // being created or removed right now
    }
    if (Number.isInteger(owner) && !alive(owner)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!Number.isInteger(owner) && existsSync(lockDir)) {
      // Owner file missing for a while: a holder died between mkdir and write.
      await sleep(2000);
      if (!existsSync(ownerFile)) rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      log(`another process (pid ${owner}) is building the binaries; waiting for it`);
      announced = true;
    }
    await sleep(1000);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------- process helper

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  onStderrLine?: (line: string) => void;
}

/** Runs a command to completion. Rejects only when it cannot be started (e.g. ENOENT). */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (options.onStderrLine !== undefined) {
        partial += chunk;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) options.onStderrLine(line);
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${(ms / 1000).toFixed(1)}s`;
}
