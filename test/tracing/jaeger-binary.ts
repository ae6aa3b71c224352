// Obtains Jaeger v2 (the all-in-one `jaeger` binary, an OpenTelemetry Collector distribution
// with Jaeger's storage and query extensions): reuses it from the cache, otherwise builds it
// with the machine's Go from the Go module proxy, keyed by version, next to the Kubernetes
// binaries (~/.cache/meshlet/jaeger/<version>/jaeger). Jaeger's own go.mod has a replace
// line, so `go install pkg@version` refuses it; the wrapper module under go/jaeger requires
// it with the same replace and a committed go.sum (the build uses exactly what it lists).
// Parallel builders each write their own file and rename it into place: no lock needed.
//   node test/tracing/jaeger-binary.ts        (builds if missing; prints the path)
import { accessSync, constants, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError, formatDuration, run } from '../cluster/binaries.ts';
import { cacheRoot } from '../cluster/versions.ts';

/** Go module version of github.com/jaegertracing/jaeger: its v1.x tags ship the v2 binary (cmd/jaeger). */
export const JAEGER_MODULE_VERSION = 'v1.76.0';
const PKG = 'github.com/jaegertracing/jaeger/cmd/jaeger';
const MODULE_DIR = fileURLToPath(new URL('./go/jaeger/', import.meta.url));

export function jaegerPath(): string {
  return join(dirname(cacheRoot()), 'jaeger', JAEGER_MODULE_VERSION, 'jaeger');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function ensureJaeger(log: (line: string) => void = (l) => process.stderr.write(`[meshlet jaeger] ${l}\n`)): Promise<string> {
  const bin = jaegerPath();
  if (executable(bin)) return bin;
  mkdirSync(dirname(bin), { recursive: true });
  const tmp = `${bin}.build-${process.pid}`;
  const go = process.env.MESHLET_GO !== undefined && process.env.MESHLET_GO !== '' ? process.env.MESHLET_GO : 'go';
  log(`building Jaeger (module ${JAEGER_MODULE_VERSION}) with ${go} build (first run only; several minutes) into ${dirname(bin)}`);
  const started = Date.now();
  try {
    const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly -buildvcs=false' };
    const r = await run(go, ['build', '-trimpath', '-ldflags', '-s -w', '-o', tmp, PKG], { env, cwd: MODULE_DIR, timeoutMs: 3_600_000 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new HarnessError(`Go is needed to build Jaeger once, but \`${go}\` was not found on PATH (or set MESHLET_GO).`);
      throw err;
    });
    if (r.code !== 0) throw new HarnessError(`go build jaeger failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-10).join('\n')}`);
    renameSync(tmp, bin);
  } finally {
    rmSync(tmp, { force: true });
  }
  log(`built Jaeger in ${formatDuration(Date.now() - started)}`);
  return bin;
}

if (import.meta.main) {
  try {
    process.stdout.write(`${await ensureJaeger()}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
