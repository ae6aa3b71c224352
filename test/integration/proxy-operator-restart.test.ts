/**
 * A real `meshlet proxy` and a real `meshlet operator --local`, the operator away and back:
 * a proxy started while the operator is unreachable keeps retrying (no exit) and comes up
 * once it returns, and with a 1-minute certificate it does not flood the CA; after an operator restart, `meshlet proxy-status` shows the proxy SYNCED
 * again (its reconnect on the current version gets 304, and that is recorded as its ack).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOperatorProcess, type OperatorProcess } from '../operator/helpers/operator-process.ts';
import { allocAddress } from '../proxy/helpers/addresses.ts';

const BIN = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
const BLOCK = 88;
const TOKEN = 'token-of-productpage-restart-0123';

let dir = '';
let mesh = '';
let pushPort = 0;
let op: OperatorProcess | undefined;
let proxy: ChildProcess | undefined;
const proxyLogs: Record<string, unknown>[] = [];

const freePort = async (): Promise<number> => {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
};

const startOperator = (): Promise<OperatorProcess> =>
  startOperatorProcess(['--local', mesh, '--hold', '1000', '--workload-cert-ttl', '1m', '--log-level', 'info'], join(dir, 'root.pem'), 20_000, { push: pushPort });

/** Polls `get` every 100 ms (at most `ms` and 300 times) until `pred` holds; returns the last value. */
async function poll<T>(get: () => T | Promise<T>, pred: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let v = await get();
  for (let i = 0; i < 300 && Date.now() < end && !pred(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await get();
  }
  return v;
}

const statusRow = (): { status?: string; acked?: string; version?: string } | undefined => {
  const r = spawnSync(process.execPath, [BIN, 'proxy-status', '--operator', op!.monitorUrl, '-o', 'json'], { encoding: 'utf8', timeout: 15_000 });
  try {
    return (JSON.parse(r.stdout) as { id: string; status: string; acked?: string; version: string }[]).find((x) => x.id === 'productpage-1.default');
  } catch {
    return undefined;
  }
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-op-restart-'));
  mesh = join(dir, 'mesh');
  cpSync('test/fixtures/local/basic', mesh, { recursive: true });
  mkdirSync(join(mesh, '.meshlet', 'tokens', 'default'), { recursive: true });
  writeFileSync(join(mesh, '.meshlet', 'tokens', 'default', 'productpage.token'), TOKEN);
  writeFileSync(join(dir, 'productpage.token'), TOKEN);
  pushPort = await freePort();
  // A first run creates the CA and writes its root; then the operator goes away.
  op = await startOperator();
  await op.stop();
});

after(async () => {
  if (proxy !== undefined && proxy.exitCode === null) {
    proxy.kill('SIGTERM');
    await Promise.race([once(proxy, 'exit'), new Promise((r) => setTimeout(r, 7_000))]);
    if (proxy.exitCode === null) proxy.kill('SIGKILL');
  }
  await op?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

test('a proxy started with the operator away retries until it is back; proxy-status is SYNCED after an operator restart', async () => {
  const bind = allocAddress(BLOCK);
  proxy = spawn(process.execPath, [BIN, 'proxy', '--operator', `https://127.0.0.1:${pushPort}`, '--ca-file', join(dir, 'root.pem'), '--token-file', join(dir, 'productpage.token'),
    '--pod', 'productpage-1', '--namespace', 'default', '--service-account', 'productpage', '--labels', 'app=productpage',
    '--bind', bind, '--admin-address', bind, '--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--ready-port', '0', '--stats-port', '0',
    '--backoff-base-ms', '100', '--backoff-max-ms', '500', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  proxy.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      try {
        proxyLogs.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      } catch { /* not JSON */ }
      buf = buf.slice(nl + 1);
    }
  });
  let stderr = '';
  proxy.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));

  // Operator away: the proxy logs failed attempts and stays up.
  const failures = (): number => proxyLogs.filter((l) => l.code === 'MESHLET_SECURITY_CERT_FETCH').length;
  await poll(() => failures(), (n) => n >= 2 || proxy!.exitCode !== null, 15_000);
  assert.equal(proxy.exitCode, null, `the proxy exited (${proxy.exitCode}) with the operator away: ${stderr.slice(-500)}`);
  assert.ok(failures() >= 2, 'it retried');

  op = await startOperator();
  const up = await poll(() => proxyLogs.some((l) => l.msg === 'config applied'), (v) => v || proxy!.exitCode !== null, 30_000);
  assert.ok(up, `the proxy got its certificate and config once the operator was back: ${stderr.slice(-500)}`);
  const first = await poll(statusRow, (r) => r?.status === 'SYNCED', 15_000);
  assert.equal(first?.status, 'SYNCED');
  // A 1-minute certificate (notBefore backdated 60 s) is renewed after 30 s, not at once and again.
  const metrics = await (await fetch(`${op.monitorUrl}/metrics`)).text();
  const csrs = Number(/^citadel_server_csr_count (\d+)/m.exec(metrics)?.[1] ?? NaN);
  assert.ok(csrs >= 1 && csrs <= 2, `${csrs} certificate requests from one proxy with a 1m TTL`);

  // Operator restart: the proxy reconnects on the version it runs.
  await op.stop();
  op = await startOperator();
  const again = await poll(statusRow, (r) => r?.status === 'SYNCED', 20_000);
  assert.equal(again?.status, 'SYNCED', `after the restart: ${JSON.stringify(again)}`);
  assert.equal(again?.acked, first?.acked, 'the same version, acked');
});
