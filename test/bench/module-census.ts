/**
 * What a real `meshlet proxy` loads to serve the bench's config: every module URL, counted
 * per package (node: builtins, node_modules packages, meshlet's own files), with its RSS.
 * Run alone (not a bench stage): `node test/bench/module-census.ts [--list]`. A preload hook
 * passed through MESHLET_PROXY_NODE_FLAGS records each URL, so the proxy runs with bin/meshlet's
 * default V8 flags plus `--import`; the census is what start-up plus one request load.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { ensureCompiled, startMeshletProxy } from './lib/meshlet-proxy.ts';
import { anonMiB, rssMiB } from './lib/procstat.ts';
import { startNginx } from './lib/reference-proxies.ts';

const UPSTREAM = '127.0.60.50:18098';
const DEFAULT_FLAGS = '--max-semi-space-size=2 --heap-growing-percent=20';

const form = ensureCompiled();
const dir = mkdtempSync(join(tmpdir(), 'meshlet-census-'));
const list = join(dir, 'loaded.txt');
const hook = join(dir, 'record.mjs');
writeFileSync(hook, `import { appendFileSync } from 'node:fs';\nimport { registerHooks } from 'node:module';\nregisterHooks({ load(url, ctx, next) { appendFileSync(${JSON.stringify(list)}, url + '\\n'); return next(url, ctx); } });\n`);
const upstream = startNginx(1, UPSTREAM);
await new Promise((r) => setTimeout(r, 300));
const p = await startMeshletProxy({ cpu: 0, bind: '127.0.60.51', upstream: UPSTREAM, env: { MESHLET_PROXY_NODE_FLAGS: `${DEFAULT_FLAGS} --import=${hook}` } });
try {
  const res = await request(p.url, { headers: { host: p.host } });
  await res.body.dump();
  const pid = p.running.proc.pid ?? 0;
  const urls = readFileSync(list, 'utf8').trim().split('\n');
  const group = (u: string): string => {
    if (u.startsWith('node:')) return u;
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (nm !== null) return nm[1]!;
    const own = /\/(?:dist\/)?(cli|common|crds|operator|proxy|webhook)\/((?:[^/]+\/)?)/.exec(u);
    return own === null ? u : `meshlet ${own[1]}/${own[2]}`;
  };
  const counts = new Map<string, number>();
  for (const u of urls) counts.set(group(u), (counts.get(group(u)) ?? 0) + 1);
  console.log(`meshlet proxy (${form}), after start and one request: ${urls.length} modules, RSS ${rssMiB(pid).toFixed(1)} MB, anonymous ${anonMiB(pid).toFixed(1)} MB`);
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${k}`);
  if (process.argv.includes('--list')) console.log(urls.join('\n'));
} finally {
  await p.running.stop();
  await upstream.stop();
}
