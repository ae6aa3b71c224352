// Obtains h2spec (HTTP/2 conformance tool): reuses it from the cache, otherwise builds it with
// the machine's Go from the Go module proxy (`go install`), keyed by version, next to the
// Kubernetes binaries (~/.cache/meshlet/h2spec/<version>/h2spec). Parallel builders each
// install into their own directory and rename the binary into place, so no lock is needed.
//   node test/h2spec/binary.ts        (builds if missing; prints the path)
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HarnessError, formatDuration, run } from '../cluster/binaries.ts';
import { cacheRoot } from '../cluster/versions.ts';

export const H2SPEC_MODULE = 'github.com/summerwind/h2spec';
/** The newest release; it has no go.mod, hence +incompatible (its dependencies resolve to their latest). */
export const H2SPEC_VERSION = 'v2.2.1+incompatible';

export function h2specPath(): string {
  return join(dirname(cacheRoot()), 'h2spec', H2SPEC_VERSION, 'h2spec');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function ensureH2spec(log: (line: string) => void = (l) => process.stderr.write(`[meshlet h2spec] ${l}\n`)): Promise<string> {
  const bin = h2specPath();
  if (executable(bin)) return bin;
  const dir = dirname(bin);
  mkdirSync(dir, { recursive: true });
  const gobin = mkdtempSync(join(dir, '.build-'));
  const go = process.env.MESHLET_GO !== undefined && process.env.MESHLET_GO !== '' ? process.env.MESHLET_GO : 'go';
  log(`building h2spec ${H2SPEC_VERSION} with ${go} install (first run only) into ${dir}`);
  const started = Date.now();
  try {
    const env = { ...process.env, GOBIN: gobin, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -trimpath' };
    const r = await run(go, ['install', `${H2SPEC_MODULE}/cmd/h2spec@${H2SPEC_VERSION}`], { env, cwd: dir, timeoutMs: 600_000 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new HarnessError(`Go is needed to build h2spec once, but \`${go}\` was not found on PATH (or set MESHLET_GO).`);
      throw err;
    });
    if (r.code !== 0) throw new HarnessError(`go install h2spec failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-10).join('\n')}`);
    renameSync(join(gobin, 'h2spec'), bin);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
  log(`built h2spec in ${formatDuration(Date.now() - started)}`);
  return bin;
}

if (import.meta.main) {
  try {
    process.stdout.write(`${await ensureH2spec()}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
