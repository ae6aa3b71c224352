/**
 * The real `meshlet proxy` serving 50 services' worth of Istio series (~13 MB per scrape) on
 * 15090: the exposition is complete and well-formed, a scraper that stops reading holds no
 * request up and still gets everything when it reads again, and a scraper that hangs up
 * mid-scrape breaks nothing. (What a scrape costs requests is measured by `npm run bench --
 * telemetry`, not asserted here.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manyServicesSnapshot } from '../bench/lib/scrape-stall.ts';
import { sample } from './harness/mesh.ts';

const BIND = '127.0.64.2';
const APP = { host: '127.0.64.21', port: 18091 };
const SERVICES = 50;
const CODES = [200, 201, 404, 500, 503];
const bin = fileURLToPath(new URL('../../bin/meshlet', import.meta.url));
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
let app: Server;
let proxy: ChildProcess;
let dir: string;

const host = (i: number): string => `svc${i}.bench.svc.cluster.local`;

function get(h: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: BIND, port: 15001, path, agent, headers: { host: h } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject).end();
  });
}

async function scrape(port = 15090): Promise<string> {
  const res = await fetch(`http://${BIND}:${port}/stats/prometheus`);
  assert.equal(res.status, 200);
  return res.text();
}

/** Raw HTTP/1.0 scrape over a socket the test controls (the body ends when the proxy closes). */
function rawScrape(): { socket: ReturnType<typeof connect>; body: Promise<string> } {
  const socket = connect(15090, BIND, () => socket.write('GET /stats/prometheus HTTP/1.0\r\nHost: x\r\n\r\n'));
  const parts: Buffer[] = [];
  socket.on('data', (d: Buffer) => parts.push(d));
  const body = new Promise<string>((resolve, reject) => {
    socket.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    socket.on('error', reject);
  });
  return { socket, body };
}

const lines = (t: string, name: string, labels: Record<string, string>): string[] =>
  t.split('\n').filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));

before(async () => {
  app = createServer((q, s) => {
    s.statusCode = Number(q.url?.slice(1)) || 200;
    s.end('ok');
  });
  await new Promise<void>((r) => app.listen(APP.port, APP.host, () => r()));
  dir = mkdtempSync(join(tmpdir(), 'meshlet-stats-stream-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(file, JSON.stringify(manyServicesSnapshot(`${APP.host}:${APP.port}`)));
  proxy = spawn(process.execPath, [bin, 'proxy', '--config-file', file, '--bind', BIND, '--admin-address', BIND, '--app-host', APP.host, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`http://${BIND}:15021/healthz/ready`).then((r) => r.status, () => 0)) === 200) break;
    assert.equal(proxy.exitCode, null, 'the proxy exited during start-up');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (let i = 0; i < SERVICES; i++) for (const c of CODES) assert.equal(await get(host(i), `/${c}`), c);
});

after(async () => {
  agent.destroy();
  if (proxy?.exitCode === null) {
    proxy.kill('SIGTERM');
    await new Promise((r) => proxy.once('exit', r));
  }
  await new Promise((r) => app?.close(r));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('a 50-service scrape is complete and well-formed, on 15090 and on the admin port', async () => {
  const t = await scrape();
  assert.ok(t.length > 10 * 1024 * 1024, `a big exposition (${(t.length / 1048576).toFixed(1)} MB)`);
  assert.equal(lines(t, 'istio_requests_total', { reporter: 'source' }).length, SERVICES * CODES.length, 'one series per service and code');
  assert.equal(sample(t, 'istio_requests_total', { destination_service: host(37), response_code: '503' }), 1);
  assert.equal(sample(t, 'istio_request_duration_milliseconds_count', { destination_service: host(49) }), CODES.length);
  assert.equal(sample(t, 'istio_request_duration_milliseconds_bucket', { destination_service: host(49), le: '+Inf' }), CODES.length);
  assert.equal(sample(t, 'envoy_cluster_upstream_rq_xx', { cluster_name: `outbound|80||${host(0)}`, envoy_response_code_class: '5' }), 2);
  // Every line is a comment or `name{labels} value` / `name value`; each family is declared once.
  const bad = t.split('\n').filter((l) => l !== '' && !l.startsWith('# ') && !/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (-?[0-9.e+]+|[+-]Inf|NaN)$/.test(l));
  assert.deepEqual(bad.slice(0, 3), []);
  const types = t.split('\n').filter((l) => l.startsWith('# TYPE '));
  assert.equal(new Set(types).size, types.length, 'no family twice');
  assert.ok(t.endsWith('\n'));
  const admin = await scrape(15000);
  assert.equal(lines(admin, 'istio_requests_total', { reporter: 'source' }).length, SERVICES * CODES.length);
});

test('a scraper that stops reading holds no request up, and gets the whole exposition when it reads again', async () => {
  const stalled = rawScrape();
  stalled.socket.pause(); // the proxy's writes now back up on this connection
  await new Promise((r) => setTimeout(r, 300));
  const codes = await Promise.all(Array.from({ length: 100 }, (_, i) => get(host(i % SERVICES), '/200')));
  assert.deepEqual([...new Set(codes)], [200], 'requests are served while the scrape waits on its reader');
  const other = await scrape();
  assert.ok(sample(other, 'istio_requests_total', { reporter: 'source', response_code: '200' }) >= SERVICES + 100, 'a second scrape runs alongside and sees the new requests');
  stalled.socket.resume();
  const raw = await stalled.body;
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  assert.equal(lines(body, 'istio_requests_total', { reporter: 'source' }).length, SERVICES * CODES.length);
  assert.ok(body.includes('# TYPE process_cpu_user_seconds_total counter'), 'through to the process metrics');
});

test('a scraper that hangs up mid-scrape breaks nothing', async () => {
  for (let i = 0; i < 3; i++) {
    const s = rawScrape();
    s.body.catch(() => undefined);
    await new Promise<void>((r) => s.socket.once('data', () => r()));
    s.socket.destroy();
  }
  assert.equal(await get(host(1), '/200'), 200);
  const t = await scrape();
  assert.equal(lines(t, 'istio_requests_total', { reporter: 'source' }).length, SERVICES * CODES.length);
  assert.equal(proxy.exitCode, null, 'the proxy is still running');
});
