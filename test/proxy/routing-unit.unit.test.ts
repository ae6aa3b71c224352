/** Pure routing: matchers, domain selection, rewrites/redirects and the weighted split with an injected random source. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { plainAttrs } from '../../proxy/routing/attrs.ts';
import { compileRouteTable } from '../../proxy/routing/compile.ts';
import { buildDomainIndex } from '../../proxy/routing/domains.ts';
import { matchRoute } from '../../proxy/routing/match.ts';
import { compilePathRewrite, redirectLocation } from '../../proxy/routing/rewrite.ts';
import { compileStringMatch } from '../../proxy/routing/string-match.ts';
import { weightedPicker } from '../../proxy/routing/weighted.ts';
import { forward, route, table } from './helpers/snapshot.ts';

describe('string matches', () => {
  it('regex is RE2 with full-match semantics, linear on hostile input', () => {
    const m = compileStringMatch({ type: 'regex', value: 'a+b' });
    assert.equal(m('aaab'), true);
    assert.equal(m('xaaab'), false);
    assert.equal(m('aaabx'), false);
    // A catastrophic pattern for backtracking engines: RE2 answers at once.
    const evil = compileStringMatch({ type: 'regex', value: '(a+)+$' });
    assert.equal(evil(`${'a'.repeat(5000)}!`), false);
  });
  it('ignoreCase applies to exact, prefix and regex', () => {
    assert.equal(compileStringMatch({ type: 'exact', value: '/Api' }, true)('/aPI'), true);
    assert.equal(compileStringMatch({ type: 'prefix', value: '/Api' }, true)('/API/x'), true);
    assert.equal(compileStringMatch({ type: 'regex', value: '/api/[a-z]+' }, true)('/API/XY'), true);
    assert.equal(compileStringMatch({ type: 'exact', value: '/Api' })('/api'), false);
  });
});

describe('domain selection', () => {
  const idx = buildDomainIndex([
    { domains: ['*'], value: 'any' },
    { domains: ['*.example.com'], value: 'suffix' },
    { domains: ['*.b.example.com'], value: 'longer-suffix' },
    { domains: ['api.*'], value: 'prefix' },
    { domains: ['exact.example.com', 'exact.example.com:8080'], value: 'exact' },
  ]);
  it('prefers exact, then longest suffix, then prefix, then *; strips the port when needed', () => {
    assert.equal(idx.find('exact.example.com'), 'exact');
    assert.equal(idx.find('EXACT.example.com:8080'), 'exact');
    assert.equal(idx.find('exact.example.com:9999'), 'exact');
    assert.equal(idx.find('x.b.example.com'), 'longer-suffix');
    assert.equal(idx.find('x.example.com'), 'suffix');
    assert.equal(idx.find('api.internal'), 'prefix');
    assert.equal(idx.find('nothing'), 'any');
  });
});

describe('route matching (first match wins)', () => {
  const t = compileRouteTable(
    table('t', [
      {
        domains: ['svc', 'svc:80'],
        routes: [
          route('a', [{ uri: { type: 'prefix', value: '/a' }, headers: { 'x-k': { type: 'exact', value: '1' } } }], forward('c')),
          route('b', [{ method: { type: 'exact', value: 'POST' } }, { queryParams: { q: { type: 'regex', value: 'x.*' } } }], forward('c')),
          route('c', [{ withoutHeaders: { 'x-skip': { type: 'prefix', value: '' } }, port: 80 }], forward('c')),
          route('d', [], forward('c')),
        ],
      },
    ]),
  );
  const name = (url: string, headers: Record<string, string> = {}, method = 'GET', port = 80) => {
    const r = matchRoute(t, plainAttrs({ url, authority: 'svc', port, headers, method }));
    return r.ok ? r.route.route.name : r.reason;
  };
  it('ANDs the fields of a match, ORs the matches, and falls through in order', () => {
    assert.equal(name('/a/1', { 'x-k': '1' }), 'a');
    assert.equal(name('/a/1', { 'x-k': '2', 'x-skip': '' }), 'd');
    assert.equal(name('/z', {}, 'POST'), 'b');
    assert.equal(name('/z?q=xyz', { 'x-skip': 'y' }), 'b');
    assert.equal(name('/z?q=yxz'), 'c');
    assert.equal(name('/z', {}, 'GET', 81), 'd');
  });
  it('reports no virtual host and no route', () => {
    assert.equal(matchRoute(t, plainAttrs({ url: '/', authority: 'other', port: 80 })).ok, false);
    const empty = compileRouteTable(table('e', [{ domains: ['*'], routes: [route('x', [{ uri: { type: 'exact', value: '/x' } }], forward('c'))] }]));
    const r = matchRoute(empty, plainAttrs({ url: '/y', authority: 'h', port: 80 }));
    assert.deepEqual(r.ok ? 'matched' : r.reason, 'no-route');
  });
});

describe('rewrites and redirects', () => {
  it('replaces the matched prefix, or the whole path for other matches', () => {
    const rw = compilePathRewrite({ uri: '/v2/' })!;
    assert.equal(rw('/v1/users', { uri: { type: 'prefix', value: '/v1/' } }), '/v2/users');
    assert.equal(rw('/v1/users', { uri: { type: 'exact', value: '/v1/users' } }), '/v2/');
    assert.equal(compilePathRewrite({ uri: '/' })!('/api/x', { uri: { type: 'prefix', value: '/api' } }), '/x');
  });
  it('rewrites by RE2 regex with \\N groups', () => {
    const rw = compilePathRewrite({ uriRegexRewrite: { match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1' } })!;
    assert.equal(rw('/service/foo/v1/api', undefined), '/v1/api/instance/foo');
  });
  it('builds redirect locations keeping the query and handling ports', () => {
    const req = { scheme: 'http', authority: 'svc:8080', path: '/old', query: 'a=1', port: 8080 };
    assert.equal(redirectLocation({ uri: '/new', redirectCode: 301 }, req), 'http://svc:8080/new?a=1');
    assert.equal(redirectLocation({ authority: 'other', scheme: 'https', redirectCode: 302 }, req), 'https://other/old?a=1');
    assert.equal(redirectLocation({ port: 9090, redirectCode: 302 }, req), 'http://svc:9090/old?a=1');
    assert.equal(redirectLocation({ derivePort: 'FROM_PROTOCOL_DEFAULT', redirectCode: 302 }, req), 'http://svc/old?a=1');
  });
});

describe('weighted split with an injected random source', () => {
  it('gives exactly 80/20 over 10,000 evenly spread draws', () => {
    const p = weightedPicker([{ name: 'v1', weight: 80 }, { name: 'v2', weight: 20 }]);
    const counts: Record<string, number> = { v1: 0, v2: 0 };
    for (let i = 0; i < 10_000; i++) counts[p.pick(() => i / 10_000).name]!++;
    assert.deepEqual(counts, { v1: 8000, v2: 2000 });
  });
  it('never picks a zero-weight destination', () => {
    const p = weightedPicker([{ name: 'a', weight: 0 }, { name: 'b', weight: 5 }]);
    for (let i = 0; i < 100; i++) assert.equal(p.pick(() => i / 100).name, 'b');
  });
});

describe('explain', () => {
  it('names the first failing field of each match and the chosen route, like the proxy', async () => {
    const { explainRoute } = await import('../../proxy/routing/explain.ts');
    const t = compileRouteTable(
      table('t', [
        {
          name: 'reviews',
          domains: ['reviews'],
          routes: [
            route('jason', [{ headers: { 'end-user': { type: 'exact', value: 'jason' } } }, { uri: { type: 'prefix', value: '/v2' }, method: { type: 'exact', value: 'POST' } }], forward('c')),
            route('default', [], forward('c')),
          ],
        },
      ]),
    );
    const e = explainRoute(t, plainAttrs({ url: '/v2/x', authority: 'reviews', port: 80, method: 'GET' }));
    assert.deepEqual(e, {
      virtualHost: 'reviews',
      chosen: 'default',
      routes: [
        { route: 'jason', index: 0, matchedBy: -1, failedFields: ['headers[end-user]', 'method'] },
        { route: 'default', index: 1, matchedBy: 0, failedFields: [null] },
      ],
    });
    assert.deepEqual(explainRoute(t, plainAttrs({ url: '/', authority: 'nope', port: 80 })), { virtualHost: null, chosen: null, routes: [] });
  });
});
