/**
 * Load balancing through a real proxy process to three real endpoints: round robin,
 * weighted round robin (3:1:1), random and least-request reach every endpoint, ring hash
 * and maglev stick a header value / cookie / query parameter to one endpoint.
 * Also the explicit-proxy form (absolute URI) used in local mode.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Pool } from 'undici';
import type { LoadBalancer } from '../../common/snapshot.ts';
import { allocAddress } from './helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';
import { startEcho, type Upstream } from './helpers/upstream.ts';

const POLICIES: Record<string, LoadBalancer> = {
  rr: { policy: 'ROUND_ROBIN' },
  wrr: { policy: 'ROUND_ROBIN' },
  random: { policy: 'RANDOM' },
  least: { policy: 'LEAST_REQUEST' },
  ringheader: { policy: 'RING_HASH', hashOn: { kind: 'header', name: 'x-user' } },
  maglevcookie: { policy: 'MAGLEV', hashOn: { kind: 'cookie', name: 'session' } },
  ringquery: { policy: 'RING_HASH', hashOn: { kind: 'queryParameter', name: 'u' } },
  gencookie: { policy: 'RING_HASH', hashOn: { kind: 'cookie', name: 'sticky', ttlMs: 60_000, path: '/' } },
};

describe('proxy load balancing (real processes)', () => {
  let ups: Upstream[] = [];
  let proxy: ProxyProcess;
  let pool: Pool;

  before(async () => {
    ups = await Promise.all(['e1', 'e2', 'e3'].map((n) => startEcho(n, allocAddress(65))));
    const names = Object.keys(POLICIES);
    const clusters = names.map((n) => cluster(`outbound|80||${n}.default.svc.cluster.local`, ups.map((u, i) => ({ address: u.address, port: u.port, weight: n === 'wrr' ? [3, 1, 1][i]! : 1 })), { lb: POLICIES[n]! }));
    const snap = snapshot('lb-1', {
      listeners: [listener(80, { routeTable: '80' })],
      tables: [table('80', names.map((n) => ({ name: n, domains: [n], routes: [route(n, [], forward(`outbound|80||${n}.default.svc.cluster.local`))] })))],
      clusters,
    });
    proxy = await startProxyProcess({ bind: allocAddress(65), snapshot: snap, args: ['--seed', '3'] });
    pool = new Pool(`http://${proxy.bind}:${proxy.ports.outbound}`, { connections: 4 });
  });

  after(async () => {
    await pool?.close();
    await proxy?.stop();
    await Promise.all(ups.map((u) => u.close()));
  });

  const hit = async (host: string, path = '/', headers: Record<string, string> = {}): Promise<string> => {
    const r = await pool.request({ path, method: 'GET', headers: { host, ...headers } });
    await r.body.dump();
    return String(r.headers['x-upstream']);
  };
  const counts = async (host: string, n: number, headers: (i: number) => Record<string, string> = () => ({})) => {
    const c: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const name = await hit(host, '/', headers(i));
      c[name] = (c[name] ?? 0) + 1;
    }
    return c;
  };

  it('round robin spreads evenly, weighted round robin 3:1:1', async () => {
    assert.deepEqual(await counts('rr', 30), { e1: 10, e2: 10, e3: 10 });
    assert.deepEqual(await counts('wrr', 50), { e1: 30, e2: 10, e3: 10 });
  });

  it('random and least-request reach every endpoint', async () => {
    for (const host of ['random', 'least']) {
      const c = await counts(host, 60);
      assert.equal(Object.keys(c).sort().join(), 'e1,e2,e3', `${host}: ${JSON.stringify(c)}`);
    }
  });

  it('consistent hashing sticks a header, a cookie and a query parameter to one endpoint', async () => {
    type Req = (k: string) => [string, Record<string, string>];
    const cases: [string, Req][] = [
      ['ringheader', (k) => ['/', { 'x-user': k }]],
      ['maglevcookie', (k) => ['/', { cookie: `a=1; session=${k}` }]],
      ['ringquery', (k) => [`/?u=${k}`, {}]],
    ];
    for (const [host, mk] of cases) {
      const seen = new Set<string>();
      for (const key of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
        const [path, headers] = mk(key);
        const first = await hit(host, path, headers);
        seen.add(first);
        for (let i = 0; i < 5; i++) assert.equal(await hit(host, path, headers), first, `${host} moved ${key}`);
      }
      assert.ok(seen.size >= 2, `${host}: six keys all on one endpoint`);
    }
  });

  it('generates the hash cookie when it has a ttl and the client sent none, and then sticks to it', async () => {
    for (let client = 0; client < 4; client++) {
      const r = await pool.request({ path: '/', method: 'GET', headers: { host: 'gencookie' } });
      await r.body.dump();
      const setCookie = String(r.headers['set-cookie']);
      assert.match(setCookie, /^sticky=[0-9a-f]{8}; Max-Age=60; Path=\/; HttpOnly$/);
      const cookie = setCookie.split(';')[0]!;
      const first = String(r.headers['x-upstream']);
      for (let i = 0; i < 5; i++) {
        const again = await pool.request({ path: '/', method: 'GET', headers: { host: 'gencookie', cookie } });
        await again.body.dump();
        assert.equal(again.headers['set-cookie'], undefined);
        assert.equal(String(again.headers['x-upstream']), first, 'the generated cookie must hash to the endpoint that served it');
      }
    }
  });

  it('accepts explicit-proxy requests with an absolute URI', async () => {
    const resp = await new Promise<string>((resolve) => {
      const s = connect({ host: proxy.bind, port: proxy.ports.outbound });
      let out = '';
      s.on('data', (c) => (out += c.toString()));
      s.on('close', () => resolve(out));
      s.write('GET http://rr:80/abs?q=1 HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n');
    });
    assert.match(resp, /^HTTP\/1.1 200/);
    assert.match(resp, /"url":"\/abs\?q=1"/);
    assert.match(resp, /"host":"rr"/, "the URI authority (default port elided) becomes the Host");
  });
});
