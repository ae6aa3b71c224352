/**
 * HTTP/2 rapid reset through a real proxy process: a client that opens streams and resets
 * them at once (HEADERS then RST_STREAM) must not turn each stream into an upstream request,
 * must be sent GOAWAY ENHANCE_YOUR_CALM once its reset budget is spent, and must leave no
 * upstream connections behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { allocAddress } from './helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';
import { startEcho, type Upstream } from './helpers/upstream.ts';

/** Streams the attacker opens and resets on one connection. */
const N = 2000;
/** The proxy's reset budget per connection (proxy/listeners/h2-guard.ts RESET_BURST). */
const BURST = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, tries = 100, everyMs = 50): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}

/** One ordinary h2c GET through the proxy; resolves with the status. */
function get(p: ProxyProcess, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = connect(`http://${p.bind}:${p.ports.outbound}`);
    c.on('error', reject);
    const s = c.request({ ':path': path, ':authority': 'app:9080' });
    let status = 0;
    s.on('response', (h) => (status = Number(h[':status'])));
    s.resume();
    s.on('end', () => {
      c.close();
      resolve(status);
    });
    s.on('error', reject);
  });
}

async function clientResets(p: ProxyProcess): Promise<number> {
  const text = await (await fetch(`http://${p.bind}:${p.ports.stats}/stats/prometheus`)).text();
  return Number(/^meshlet_proxy_h2_client_resets_total (\d+)/m.exec(text)?.[1] ?? 0);
}

interface Attack {
  opened: number;
  goawayCode: number | undefined;
}

/** Opens up to `n` streams on one connection, each reset (CANCEL) right after its HEADERS. */
async function rapidReset(p: ProxyProcess, n: number): Promise<Attack> {
  const c: ClientHttp2Session = connect(`http://${p.bind}:${p.ports.outbound}`);
  const res: Attack = { opened: 0, goawayCode: undefined };
  c.on('error', () => undefined);
  c.on('goaway', (code) => (res.goawayCode ??= code));
  const closed = new Promise<void>((r) => c.once('close', r));
  await new Promise<void>((r, j) => (c.once('connect', () => r()), c.once('error', j)));
  for (let i = 0; i < n && res.goawayCode === undefined && !c.destroyed && !c.closed; i++) {
    const s = c.request({ ':path': `/reset/${i}`, ':authority': 'app:9080' });
    s.on('error', () => undefined);
    s.close(constants.NGHTTP2_CANCEL);
    res.opened++;
    // Let the frames out in batches (bounded in count; no wall-clock pacing).
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await Promise.race([closed, sleep(5000)]);
  c.destroy();
  return res;
}

describe('HTTP/2 rapid reset (real proxy, counting app)', () => {
  let app: Upstream;
  let proxy: ProxyProcess;
  let requests = 0;
  let answeredResets = 0;
  let open = 0;

  before(async () => {
    // A slow app (1 s per answer): requests pile up upstream as they would under load, and a
    // reset stream that reached it must be cancelled (connection closed) before it answers.
    app = await startEcho('app', allocAddress(68), (req, res) => {
      requests++;
      const reset = req.url?.startsWith('/reset/') === true;
      const timer = setTimeout(() => {
        if (reset) answeredResets++;
        res.end('ok');
      }, 1000);
      res.once('close', () => clearTimeout(timer));
      return true;
    });
    app.server.on('connection', (s) => {
      open++;
      s.once('close', () => open--);
    });
    const C = 'outbound|9080||app.default.svc.cluster.local';
    const snap = snapshot('rapid-reset-1', {
      listeners: [listener(9080, { routeTable: 'app' })],
      tables: [table('app', [{ domains: ['*'], routes: [route('app-all', [], forward(C))] }])],
      clusters: [cluster(C, [{ address: app.address, port: app.port }])],
    });
    // A 2 s DestinationRule idleTimeout, so the test sees idle connections reaped without
    // waiting for the 60 s bound (that one: h2-guard.test.ts).
    snap.clusters[0]!.connectionPool.idleTimeoutMs = 2000;
    proxy = await startProxyProcess({ bind: allocAddress(68), snapshot: snap });
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
  });

  it(`forwards few of ${N} reset streams, answers GOAWAY ENHANCE_YOUR_CALM, and leaves no upstream connections`, async (t) => {
    assert.equal(await get(proxy, '/warm'), 200);
    assert.ok(await until(() => requests === 1));
    const baseRequests = requests;
    const baseOpen = open;
    const baseRss = rssMb(proxy.child.pid!);

    const attack = await rapidReset(proxy, N);
    // Whatever the proxy forwarded has reached the app and would have been answered by now.
    await sleep(1500);
    const forwarded = requests - baseRequests;
    // Normal traffic is unaffected, on a new connection.
    const after = await get(proxy, '/after');
    const back = await until(() => open <= baseOpen, 100, 100);
    const rss = rssMb(proxy.child.pid!);
    t.diagnostic(`opened ${attack.opened} reset streams; app received ${forwarded}, answered ${answeredResets}; GOAWAY code ${attack.goawayCode}`);
    t.diagnostic(`upstream connections: baseline ${baseOpen}, now ${open}; proxy RSS ${baseRss.toFixed(0)} → ${rss.toFixed(0)} MB`);
    assert.equal(attack.goawayCode, constants.NGHTTP2_ENHANCE_YOUR_CALM, 'GOAWAY ENHANCE_YOUR_CALM once the reset budget is spent');
    assert.ok(attack.opened < N, 'the connection was closed before the attacker was done');
    // The proxy's count: the GOAWAY came with the first reset over the budget.
    const flood = proxy.logs.map((l) => JSON.parse(l) as { code?: string; resets?: number }).find((l) => l.code === 'MESHLET_PROXY_H2_RESET_FLOOD');
    assert.equal(flood?.resets, BURST + 1, 'GOAWAY at reset number BURST + 1');
    // Bound: only streams whose RST_STREAM came in a later read than their HEADERS can have
    // been written upstream before the reset, and there are at most BURST + 1 resets before
    // the GOAWAY: ≤ 101 of 2000 (before the fix: all 2000). Each is cancelled at once.
    assert.ok(forwarded <= BURST + 1, `app received ${forwarded} of ${attack.opened} reset streams`);
    assert.equal(answeredResets, 0, 'every reset stream that reached the app was cancelled before it answered');
    assert.equal(after, 200);
    assert.ok(back, `upstream connections back to baseline (${baseOpen}), still ${open}`);
    assert.ok(rss < baseRss + 100, 'proxy RSS did not grow by 100 MB');

    const stats = await (await fetch(`http://${proxy.bind}:${proxy.ports.stats}/stats/prometheus`)).text();
    assert.match(stats, /meshlet_proxy_h2_goaway_total\{reason="reset_flood"\} 1\b/);
    assert.match(stats, /meshlet_proxy_h2_client_resets_total \d+/);
  });
  it('keeps a client that cancels a quarter of its requests: no GOAWAY past the burst', async (t) => {
    const resetsBefore = await clientResets(proxy);
    const c: ClientHttp2Session = connect(`http://${proxy.bind}:${proxy.ports.outbound}`);
    let goaway: number | undefined;
    c.on('error', () => undefined);
    c.on('goaway', (code) => (goaway ??= code));
    await new Promise<void>((r, j) => (c.once('connect', () => r()), c.once('error', j)));
    const answered: Promise<number>[] = [];
    // 600 streams, every fourth cancelled right away: 150 resets, past the burst of 100 but
    // never more than half of the streams.
    for (let i = 0; i < 600 && goaway === undefined; i++) {
      const s = c.request({ ':path': `/mixed/${i}`, ':authority': 'app:9080' });
      s.on('error', () => undefined);
      if (i % 4 === 3) {
        s.close(constants.NGHTTP2_CANCEL);
        continue;
      }
      answered.push(
        new Promise((resolve) => {
          let status = 0;
          s.on('response', (h) => (status = Number(h[':status'])));
          s.resume();
          s.on('close', () => resolve(status));
        }),
      );
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    const statuses = await Promise.all(answered);
    c.close();
    const ok = statuses.filter((st) => st === 200).length;
    t.diagnostic(`${statuses.length} requests, ${ok} answered 200; GOAWAY ${goaway ?? 'none'}`);
    const counted = (await clientResets(proxy)) - resetsBefore;
    t.diagnostic(`the proxy counted ${counted} client resets`);
    assert.ok(counted > BURST, `the proxy counted ${counted} resets: past the burst`);
    assert.equal(goaway, undefined);
    assert.equal(ok, 450);
  });
});
