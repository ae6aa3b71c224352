/**
 * `npm run build:dist`: compiles the runtime code (tsconfig.build.json: cli, common, crds,
 * operator, proxy, webhook; no tests) to JavaScript in dist/, so the proxy and the image run
 * without type stripping. bin/meshlet uses dist/ only when dist/BUILD.json exists and no
 * source is newer (bin/entry.js), so the stamp is removed first and written last.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const STAMP = join(dist, 'BUILD.json');

rmSync(STAMP, { force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const res = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (res.status !== 0) process.exit(res.status ?? 1);

// What the compiled code reads or runs relative to itself: the package version, the operator
// UI's static files, and bin/meshlet (local mode spawns one proxy per workload through it).
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2)}\n`);
cpSync(join(root, 'operator', 'ui', 'static'), join(dist, 'operator', 'ui', 'static'), { recursive: true });
rmSync(join(dist, 'bin'), { recursive: true, force: true });
symlinkSync('../bin', join(dist, 'bin'));
mkdirSync(dist, { recursive: true });
writeFileSync(STAMP, `${JSON.stringify({ version: pkg.version, node: process.version, builtAt: new Date().toISOString() }, null, 2)}\n`);
console.log(`build:dist: wrote ${dist}`);
