/** HTTPRedirect.prefixRewrite: the matched prefix is replaced; exact/regex matches replace the whole path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redirectLocation } from '../../proxy/routing/rewrite.ts';

const req = { scheme: 'http', authority: 'example.com', path: '/foo/bar', query: 'a=1', port: 80 };

test('prefix match: /foo/ → / keeps the rest of the path and the query', () => {
  assert.equal(redirectLocation({ prefixRewrite: '/', authority: 'foo.example.com', redirectCode: 301 }, req, { uri: { type: 'prefix', value: '/foo/' } }), 'http://foo.example.com/bar?a=1');
  assert.equal(redirectLocation({ prefixRewrite: '/v2/', redirectCode: 302 }, req, { uri: { type: 'prefix', value: '/foo/' } }), 'http://example.com/v2/bar?a=1');
});

test('exact or regex match: the whole path; no uri match: the implicit "/" prefix', () => {
  assert.equal(redirectLocation({ prefixRewrite: '/new', redirectCode: 301 }, req, { uri: { type: 'exact', value: '/foo/bar' } }), 'http://example.com/new?a=1');
  assert.equal(redirectLocation({ prefixRewrite: '/new/', redirectCode: 301 }, req, {}), 'http://example.com/new/foo/bar?a=1');
  assert.equal(redirectLocation({ prefixRewrite: '/new/', redirectCode: 301 }, req, undefined), 'http://example.com/new/foo/bar?a=1');
});
