/**
 * Routing through a real `meshlet proxy` child process to real upstreams on 127.x:
 * every match type, first-match-wins, 80/20 split over 10,000 requests, subsets,
 * rewrite/redirect/direct response/header edits/mirror/CORS, and 404 NR.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { allocAddress } from './helpers/addresses.ts';
import { startProxyProcess, type ProxyProcess } from './helpers/proxy-process.ts';
import { cluster, forward, listener, route, snapshot, table } from './helpers/snapshot.ts';
import { startEcho, type EchoReply, type Upstream } from './helpers/upstream.ts';
import type { RouteMatch } from '../../common/snapshot.ts';

const A = 'outbound|9080||a.default.svc.cluster.local';
const B = 'outbound|9080||b.default.svc.cluster.local';
const C = 'outbound|9080||c.default.svc.cluster.local';
const V1 = 'outbound|9080|v1|svc.default.svc.cluster.local';
const V2 = 'outbound|9080|v2|svc.default.svc.cluster.local';

const tag = (name: string, match: RouteMatch[], dest = A) => route(name, match, forward(dest), { headers: { request: { set: { 'x-route': name } } } });

describe('proxy routing (real processes)', () => {
  let a: Upstream, b: Upstream, c: Upstream;
  let proxy: ProxyProcess;
  let pool: Pool;

  before(async () => {
    [a, b, c] = await Promise.all([startEcho('a', allocAddress(61)), startEcho('b', allocAddress(61)), startEcho('c', allocAddress(61))]);
    const ep = (u: Upstream, version: string) => [{ address: u.address, port: u.port, labels: { app: 'svc', version } }];
    const routes = [
      tag('exact', [{ uri: { type: 'exact', value: '/exact' } }]),
      tag('prefix', [{ uri: { type: 'prefix', value: '/prefix/' } }]),
      tag('regex', [{ uri: { type: 'regex', value: '/re/[0-9]+' } }]),
      tag('ignorecase', [{ uri: { type: 'exact', value: '/CaSe' }, ignoreUriCase: true }]),
      tag('method', [{ method: { type: 'exact', value: 'DELETE' } }]),
      tag('header-exact', [{ headers: { 'x-user': { type: 'exact', value: 'jason' } } }]),
      tag('header-prefix', [{ headers: { 'x-p': { type: 'prefix', value: 'ab' } } }]),
      tag('header-regex', [{ headers: { 'x-r': { type: 'regex', value: 'v[0-9]+' } } }]),
      tag('header-present', [{ headers: { 'x-present': { type: 'regex', value: '.*' } } }]), // presence, as translation emits it
      tag('query-exact', [{ queryParams: { q: { type: 'exact', value: 'yes' } } }]),
      tag('query-regex', [{ queryParams: { n: { type: 'regex', value: '[0-9]+' } } }]),
      tag('authority', [{ authority: { type: 'prefix', value: 'other' } }]),
      tag('port', [{ port: 9081 }]),
      tag('without', [{ uri: { type: 'prefix', value: '/wo' }, withoutHeaders: { 'x-block': { type: 'exact', value: 'yes' } } }]),
      tag('and', [{ uri: { type: 'prefix', value: '/and' }, headers: { 'x-a': { type: 'exact', value: '1' } } }]),
      tag('or', [{ uri: { type: 'exact', value: '/or1' } }, { uri: { type: 'exact', value: '/or2' } }]),
      tag('subset', [{ headers: { 'x-version': { type: 'exact', value: 'v2' } } }], V2),
      route('split', [{ uri: { type: 'prefix', value: '/split' } }], forward({ cluster: V1, weight: 80 }, { cluster: V2, weight: 20 })),
      route('rewrite', [{ uri: { type: 'prefix', value: '/rw/' } }], forward(A), { rewrite: { uri: '/new/', authority: 'rewritten.host' } }),
      route('regex-rewrite', [{ uri: { type: 'prefix', value: '/rx/' } }], forward(A), { rewrite: { uriRegexRewrite: { match: '^/rx/([a-z]+)/([a-z]+)$', rewrite: '/\\2/\\1' } } }),
      route('redirect', [{ uri: { type: 'exact', value: '/redir' } }], { kind: 'redirect', redirect: { uri: '/target', authority: 'new.host', redirectCode: 302 } }),
      route('direct', [{ uri: { type: 'exact', value: '/direct' } }], { kind: 'directResponse', status: 418, body: 'teapot' }),
      route('headers', [{ uri: { type: 'exact', value: '/hdrs' } }], forward({ cluster: A, weight: 1, headers: { request: { set: { 'x-dest': 'a' } } } }), {
        headers: { request: { set: { 'x-set': 's' }, add: { 'x-add': 'a2' }, remove: ['x-remove'] }, response: { set: { 'x-resp': 'r' }, remove: ['x-upstream'] } },
      }),
      route('mirror', [{ uri: { type: 'exact', value: '/mirror' } }], forward(A), { mirrors: [{ cluster: C, percentage: 100 }] }),
      route('cors', [{ uri: { type: 'prefix', value: '/cors' } }], forward(A), { cors: { allowOrigins: [{ type: 'exact', value: 'https://ok.example' }], allowMethods: ['GET', 'POST'], allowHeaders: ['x-h'], exposeHeaders: ['x-upstream'], maxAgeSeconds: 60 } }),
    ];
    const snap = snapshot('routing-1', {
      listeners: [listener(9080, { routeTable: 'svc' }), listener(9081, { routeTable: 'svc' })],
      tables: [table('svc', [{ name: 'exact-host', domains: ['exact.example'], routes: [tag('exact-host', [], B)] }, { name: 'any', domains: ['*'], routes }])],
      clusters: [cluster(A, ep(a, 'v1')), cluster(B, ep(b, 'v1')), cluster(C, ep(c, 'v1')), cluster(V1, ep(a, 'v1')), cluster(V2, ep(b, 'v2'))],
    });
    proxy = await startProxyProcess({ bind: allocAddress(61), snapshot: snap, args: ['--seed', '7'] });
    pool = new Pool(`http://${proxy.bind}:${proxy.ports.outbound}`, { connections: 8 });
  });

  after(async () => {
    await pool?.close();
    await proxy?.stop();
    await Promise.all([a?.close(), b?.close(), c?.close()]);
  });

  async function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; echo: EchoReply | undefined }> {
    const res = await pool.request({ path, method: method as 'GET', headers: { host: 'svc:9080', ...headers } });
    const body = await res.body.text();
    let echo: EchoReply | undefined;
    try {
      echo = JSON.parse(body) as EchoReply;
    } catch {
      echo = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body, echo };
  }
  const routeOf = async (path: string, headers: Record<string, string> = {}, method = 'GET') => (await get(path, headers, method)).echo?.headers['x-route'];

  it('matches uri exact/prefix/regex (full match) and ignoreUriCase', async () => {
    assert.equal(await routeOf('/exact'), 'exact');
    assert.equal((await get('/exactly')).status, 404);
    assert.equal(await routeOf('/prefix/x/y'), 'prefix');
    assert.equal(await routeOf('/re/123'), 'regex');
    assert.equal((await get('/re/123x')).status, 404, 'regex must match the whole path');
    assert.equal(await routeOf('/case'), 'ignorecase');
    assert.equal(await routeOf('/CASE?x=1'), 'ignorecase');
  });

  it('matches method, headers exact/prefix/regex/presence, query params, authority, port', async () => {
    assert.equal(await routeOf('/m', {}, 'DELETE'), 'method');
    assert.equal(await routeOf('/h', { 'x-user': 'jason' }), 'header-exact');
    assert.equal((await get('/h', { 'x-user': 'jasonx' })).status, 404);
    assert.equal(await routeOf('/h', { 'x-p': 'abc' }), 'header-prefix');
    assert.equal(await routeOf('/h', { 'x-r': 'v12' }), 'header-regex');
    assert.equal((await get('/h', { 'x-r': 'xv12' })).status, 404);
    assert.equal(await routeOf('/h', { 'x-present': '' }), 'header-present');
    assert.equal(await routeOf('/q?q=yes'), 'query-exact');
    assert.equal((await get('/q?q=yess')).status, 404);
    assert.equal(await routeOf('/q?a=1&n=42'), 'query-regex');
    assert.equal(await routeOf('/x', { host: 'other.example:9080' }), 'authority');
    assert.equal(await routeOf('/x', { host: 'svc:9081' }), 'port');
  });

  it('applies withoutHeaders, AND within a match, OR across matches, first match wins, exact domain beats *', async () => {
    assert.equal(await routeOf('/wo'), 'without');
    assert.equal((await get('/wo', { 'x-block': 'yes' })).status, 404);
    assert.equal(await routeOf('/and', { 'x-a': '1' }), 'and');
    assert.equal((await get('/and')).status, 404);
    assert.equal(await routeOf('/or1'), 'or');
    assert.equal(await routeOf('/or2'), 'or');
    // '/exact' with x-user matches both 'exact' and 'header-exact': the first listed wins.
    assert.equal(await routeOf('/exact', { 'x-user': 'jason' }), 'exact');
    const r = await get('/exact', { host: 'exact.example:9080' });
    assert.equal(r.echo?.name, 'b');
    assert.equal(r.echo?.headers['x-route'], 'exact-host');
  });

  it('answers 404 with x-meshlet-flags NR when nothing matches', async () => {
    const r = await get('/nothing/here');
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-meshlet-flags'], 'NR');
    assert.equal(r.headers['x-meshlet-error'], 'MESHLET_PROXY_NO_ROUTE');
    const unknownPort = await get('/exact', { host: 'svc:7777' });
    assert.equal(unknownPort.status, 404);
    assert.equal(unknownPort.headers['x-meshlet-flags'], 'NR');
  });

  it('routes subsets: the v2 subset reaches only the v2 endpoint', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await get('/s', { 'x-version': 'v2' })).echo?.name, 'b');
  });

  it('splits 80/20 over 10,000 requests within ±2 points', { timeout: 120_000 }, async () => {
    const counts = { a: 0, b: 0, other: 0 };
    const total = 10_000;
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < total) {
        sent++;
        const res = await pool.request({ path: '/split', method: 'GET', headers: { host: 'svc:9080' } });
        const name = res.headers['x-upstream'];
        await res.body.dump();
        if (name === 'a') counts.a++;
        else if (name === 'b') counts.b++;
        else counts.other++;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.equal(counts.other, 0);
    assert.equal(counts.a + counts.b, total);
    const shareA = (counts.a / total) * 100;
    assert.ok(shareA >= 78 && shareA <= 82, `v1 share ${shareA.toFixed(2)}% not within 80±2`);
  });

  it('rewrites the uri prefix and the authority, and rewrites by regex', async () => {
    const r = await get('/rw/deep/path?k=v');
    assert.equal(r.echo?.url, '/new/deep/path?k=v');
    assert.equal(r.echo?.headers.host, 'rewritten.host');
    assert.equal(r.echo?.headers['x-envoy-original-path'], '/rw/deep/path?k=v');
    assert.equal((await get('/rx/alpha/beta')).echo?.url, '/beta/alpha');
  });

  it('redirects and answers direct responses without an upstream', async () => {
    const r = await get('/redir?z=1');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'http://new.host/target?z=1');
    const d = await get('/direct');
    assert.equal(d.status, 418);
    assert.equal(d.body, 'teapot');
  });

  it('sets, adds and removes request and response headers (route and destination level)', async () => {
    const r = await get('/hdrs', { 'x-remove': 'gone', 'x-add': 'a1' });
    assert.equal(r.echo?.headers['x-set'], 's');
    assert.equal(r.echo?.headers['x-add'], 'a1, a2');
    assert.equal(r.echo?.headers['x-remove'], undefined);
    assert.equal(r.echo?.headers['x-dest'], 'a');
    assert.equal(r.headers['x-resp'], 'r');
    assert.equal(r.headers['x-upstream'], undefined);
    assert.ok(typeof r.echo?.headers['x-request-id'] === 'string' && r.echo.headers['x-request-id'].length > 10);
    assert.ok(String(r.echo?.headers['x-forwarded-for']).length > 0);
    assert.equal(r.echo?.headers['x-forwarded-proto'], 'http');
  });

  it('mirrors to the shadow cluster with a -shadow host and keeps the real response', async () => {
    const before = c.seen.length;
    const r = await get('/mirror');
    assert.equal(r.status, 200);
    assert.equal(r.echo?.name, 'a');
    for (let i = 0; i < 100 && c.seen.length === before; i++) await new Promise((res) => setTimeout(res, 20));
    const shadow = c.seen.at(-1);
    assert.ok(shadow !== undefined && c.seen.length > before, 'mirror cluster got no request');
    assert.equal(shadow.headers.host, 'svc-shadow:9080');
    assert.equal(shadow.url, '/mirror');
  });

  it('answers CORS preflights from allowed origins and decorates simple requests', async () => {
    const pre = await get('/cors', { origin: 'https://ok.example', 'access-control-request-method': 'POST' }, 'OPTIONS');
    assert.equal(pre.status, 200);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://ok.example');
    assert.equal(pre.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(pre.headers['access-control-max-age'], '60');
    const simple = await get('/cors', { origin: 'https://ok.example' });
    assert.equal(simple.headers['access-control-allow-origin'], 'https://ok.example');
    assert.equal(simple.headers['access-control-expose-headers'], 'x-upstream');
    const other = await get('/cors', { origin: 'https://evil.example' });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it('serves /config_dump with version and provenance, and is ready', async () => {
    const dump = (await (await fetch(`http://${proxy.bind}:${proxy.ports.admin}/config_dump`)).json()) as { version: string; provenance: { kind: string; name: string; provenance: { kind: string } }[] };
    assert.equal(dump.version, 'routing-1');
    assert.ok(dump.provenance.some((p) => p.kind === 'route' && p.provenance.kind === 'VirtualService'));
    assert.equal((await fetch(`http://${proxy.bind}:${proxy.ports.ready}/healthz/ready`)).status, 200);
  });
});
