// Which code `bin/meshlet` runs: the compiled JavaScript in dist/ (`npm run build:dist`, the
// image) when it is complete and no source is newer than it, else the TypeScript sources.
// Compiled code spares every process Node's type stripping (~12 MB of memory) and the
// per-file transform at start. Plain JavaScript: it runs before we know which form to load.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The folders `tsconfig.build.json` compiles; dist/ mirrors them. */
export const SOURCE_DIRS = ['cli', 'common', 'crds', 'operator', 'proxy', 'webhook'];
/** Written last by scripts/build-dist.ts: its presence means the build completed. */
export const STAMP = 'BUILD.json';

/** Files dist/ is made from (a README edit does not make dist/ stale). */
const COMPILED = /\.(ts|html|js)$/;

function newestMtimeMs(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtimeMs(p));
    else if (COMPILED.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * `{ form: 'dist' | 'source', main }` for the package at `root`. MESHLET_FROM_SOURCE=1 forces
 * the sources. Without sources (an installed package or the image) dist/ is all there is.
 */
export function pickEntry(root, env = process.env) {
  const source = { form: 'source', main: join(root, 'cli', 'main.ts') };
  const dist = { form: 'dist', main: join(root, 'dist', 'cli', 'main.js') };
  if (env.MESHLET_FROM_SOURCE === '1') return source;
  const stamp = join(root, 'dist', STAMP);
  if (!existsSync(stamp) || !existsSync(dist.main)) return source;
  if (!existsSync(source.main)) return dist;
  const built = statSync(stamp).mtimeMs;
  for (const d of SOURCE_DIRS) {
    const dir = join(root, d);
    if (existsSync(dir) && newestMtimeMs(dir) > built) return source; // edited since the build
  }
  return dist;
}
