/**
 * The compiled form (`npm run build:dist`, which `npm test`'s pretest runs): bin/meshlet
 * picks dist/ only when it is complete and current, and a real `meshlet proxy` started from
 * dist/ serves a request without loading a single TypeScript file.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { pickEntry } from '../../bin/entry.js';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from '../proxy/helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from '../proxy/helpers/snapshot.ts';
import { startEcho, type Upstream } from '../proxy/helpers/upstream.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'meshlet');
const BLOCK = 76;

// Run directly (not through `npm test`) after editing a source, dist/ is stale: rebuild it.
if (pickEntry(ROOT, {}).form !== 'dist') {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-dist.ts')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `build:dist failed: ${r.stdout}${r.stderr}`);
}

describe('pickEntry chooses dist/ only when it is complete and no source is newer', () => {
  let dir: string;
  const at = (file: string, seconds: number): void => utimesSync(join(dir, file), seconds, seconds);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshlet-entry-'));
    mkdirSync(join(dir, 'cli'));
    mkdirSync(join(dir, 'proxy', 'http'), { recursive: true });
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    for (const f of ['cli/main.ts', 'proxy/http/codec.ts', 'dist/cli/main.js', 'dist/BUILD.json']) writeFileSync(join(dir, f), '');
    at('cli/main.ts', 1000);
    at('proxy/http/codec.ts', 1000);
    at('dist/BUILD.json', 2000);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a complete build newer than every source: dist', () => {
    assert.deepEqual(pickEntry(dir, {}), { form: 'dist', main: join(dir, 'dist', 'cli', 'main.js') });
  });
  it('MESHLET_FROM_SOURCE=1: the sources', () => {
    assert.equal(pickEntry(dir, { MESHLET_FROM_SOURCE: '1' }).form, 'source');
  });
  it('a source edited after the build (deep in a folder): the sources', () => {
    at('proxy/http/codec.ts', 3000);
    assert.deepEqual(pickEntry(dir, {}), { form: 'source', main: join(dir, 'cli', 'main.ts') });
    at('proxy/http/codec.ts', 1000);
  });
  it('a README edited after the build is not a source: still dist', () => {
    writeFileSync(join(dir, 'proxy', 'README.md'), '');
    at('proxy/README.md', 3000);
    assert.equal(pickEntry(dir, {}).form, 'dist');
  });
  it('no stamp (a build that did not finish): the sources', () => {
    rmSync(join(dir, 'dist', 'BUILD.json'));
    assert.equal(pickEntry(dir, {}).form, 'source');
    writeFileSync(join(dir, 'dist', 'BUILD.json'), '');
    at('dist/BUILD.json', 2000);
  });
  it('no sources at all (the image, an installed package): dist', () => {
    rmSync(join(dir, 'cli'), { recursive: true });
    rmSync(join(dir, 'proxy'), { recursive: true });
    assert.equal(pickEntry(dir, {}).form, 'dist');
  });
});

describe('bin/meshlet in this checkout', () => {
  it('runs dist/ once built, and the sources when told to', () => {
    const dist = spawnSync(process.execPath, [BIN, 'version', '--client'], { encoding: 'utf8' });
    assert.equal(dist.status, 0, dist.stderr);
    assert.match(dist.stdout, /, compiled\)\n$/);
    const source = spawnSync(process.execPath, [BIN, 'version', '--client'], { encoding: 'utf8', env: { ...process.env, MESHLET_FROM_SOURCE: '1' } });
    assert.match(source.stdout, /, from source\)\n$/);
  });
});

describe('a real meshlet proxy from dist/', () => {
  let app: Upstream;
  let proxy: ProxyProcess;
  let loaded: string;
  before(async () => {
    app = await startEcho('app', allocAddress(BLOCK));
    const C = 'outbound|8080||app.default.svc.cluster.local';
    const snap = snapshot('d1', {
      listeners: [listener(8080, { routeTable: '8080' })],
      tables: [table('8080', [{ domains: ['app', 'app:8080'], routes: [route('r', [], forward(C))] }])],
      clusters: [cluster(C, [{ address: app.address, port: app.port }])],
    });
    // A preload that records every module the process loads (bin/meshlet passes these node flags).
    const tmp = mkdtempSync(join(tmpdir(), 'meshlet-dist-'));
    loaded = join(tmp, 'loaded.txt');
    const hook = join(tmp, 'record.mjs');
    writeFileSync(hook, `import { appendFileSync } from 'node:fs';\nimport { registerHooks } from 'node:module';\nregisterHooks({ load(url, ctx, next) { appendFileSync(${JSON.stringify(loaded)}, url + '\\n'); return next(url, ctx); } });\n`);
    proxy = await startProxyProcess({ bind: allocAddress(BLOCK), snapshot: snap, env: { MESHLET_PROXY_NODE_FLAGS: `--import=${hook}` } });
  });
  after(async () => {
    await proxy?.stop();
    await app?.close();
  });

  it('forwards a request to the app', async () => {
    const res = await request(`http://${proxy.bind}:${proxy.ports.outbound}/hello`, { headers: { host: 'app:8080' } });
    assert.equal(res.statusCode, 200);
    const body = (await res.body.json()) as { name: string; url: string };
    assert.deepEqual({ name: body.name, url: body.url }, { name: 'app', url: '/hello' });
  });

  it('loaded the compiled proxy and no TypeScript file', () => {
    const urls = readFileSync(loaded, 'utf8').trim().split('\n');
    assert.ok(urls.some((u) => u.endsWith('/dist/proxy/server.js')), 'dist/proxy/server.js loaded');
    assert.deepEqual(urls.filter((u) => /\.[cm]?ts$/.test(u)), [], 'no .ts module loaded');
  });
});
