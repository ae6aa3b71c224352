/**
 * Start-up and shutdown of a real proxy process: not ready (503 on /healthz/ready and
 * /ready, local 503 NC on traffic) until a config is applied; POST /quitquitquit lets an
 * in-flight request finish, then exits 0 (so Jobs can complete).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'undici';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
import { allocAddress } from './helpers/addresses.ts';
import { startProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';
import { startEcho, type Upstream } from './helpers/upstream.ts';

describe('proxy lifecycle (real processes)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('refuses an invalid --config-file with the catalog code and exits (usage errors exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-life-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ version: 'broken' }));
    const bind = allocAddress(66);
    const bad = spawnSync(process.execPath, [BIN, 'proxy', '--config-file', file, '--bind', bind, '--admin-address', bind, '--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--ready-port', '0', '--stats-port', '0'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(bad.status, 3);
    assert.match(bad.stderr, /\[MESHLET_SNAPSHOT_INVALID\]/);
    const usage = spawnSync(process.execPath, [BIN, 'proxy'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /exactly one of --config-file or --operator/);
  });

  it('is not ready and answers 503 NC before any config arrives', async () => {
    const dead = createServer();
    const addr = allocAddress(66);
    await new Promise<void>((r) => dead.listen(0, addr, r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const proxy = await startProxyProcess({ bind: allocAddress(66), args: ['--operator', `https://${addr}:${port}`, '--insecure', '--pod', 'p', '--namespace', 'ns'] });
    cleanup.push(() => proxy.stop());
    assert.equal((await request(`http://${proxy.bind}:${proxy.ports.ready}/healthz/ready`)).statusCode, 503);
    assert.equal((await request(`http://${proxy.bind}:${proxy.ports.admin}/ready`)).statusCode, 503);
    const r = await request(`http://${proxy.bind}:${proxy.ports.outbound}/`, { headers: { host: 'svc:80' } });
    assert.equal(r.statusCode, 503);
    assert.equal(r.headers['x-meshlet-flags'], 'NC');
    assert.equal(r.headers['x-meshlet-error'], 'MESHLET_PROXY_NOT_READY');
    await r.body.dump();
  });

  it('drains an in-flight request on POST /quitquitquit, then exits 0', async () => {
    let release: (() => void) | undefined;
    const slow: Upstream = await startEcho('slow', allocAddress(66), (req, res) => {
      if (req.url !== '/slow') return false;
      release = () => res.end('finished');
      return true;
    });
    cleanup.push(() => slow.close());
    const C = 'outbound|80||slow.default.svc.cluster.local';
    const snap = snapshot('life-1', { listeners: [listener(80, { routeTable: '80' })], tables: [table('80', [{ domains: ['*'], routes: [route('all', [], forward(C))] }])], clusters: [cluster(C, [{ address: slow.address, port: slow.port }])] });
    const proxy = await startProxyProcess({ bind: allocAddress(66), snapshot: snap });
    cleanup.push(() => proxy.stop());
    const exit = new Promise<number | null>((r) => proxy.child.once('exit', (code) => r(code)));
    const inFlight = request(`http://${proxy.bind}:${proxy.ports.outbound}/slow`, { headers: { host: 'slow:80' } });
    for (let i = 0; i < 100 && release === undefined; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(release !== undefined, 'request did not reach the upstream');
    const q = await request(`http://${proxy.bind}:${proxy.ports.admin}/quitquitquit`, { method: 'POST' });
    assert.equal(q.statusCode, 200);
    await q.body.dump();
    release!();
    const r = await inFlight;
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), 'finished');
    assert.equal(await exit, 0);
  });
});
