import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthzPolicy, AuthzRule } from '../../common/snapshot.ts';
import { compileAuthz, type AuthzRequest } from '../../proxy/security/authz.ts';

const A = 'spiffe://cluster.local/ns/foo/sa/sleep';
const B = 'spiffe://cluster.local/ns/bar/sa/other';
function pol(action: AuthzPolicy['action'], rules: Partial<AuthzRule>[], name = 'foo/p'): AuthzPolicy {
  return { name, action, rules: rules.map((r) => ({ from: [], to: [], when: [], ...r })), provenance: { kind: 'AuthorizationPolicy', namespace: 'foo', name: name.split('/')[1] ?? name } };
}
function req(over: Partial<AuthzRequest> = {}): AuthzRequest {
  const headers: Record<string, string> = { 'x-token': 'abc' };
  return { http: true, sourceIp: '10.0.0.5', destinationIp: '10.0.1.1', destinationPort: 8080, principal: A, method: 'GET', path: '/info', host: 'httpbin.foo:8000', header: (n) => headers[n], ...over };
}
const allowed = (ps: AuthzPolicy[], r: AuthzRequest): boolean => compileAuthz(ps).evaluate(r).allowed;

test('no policies allow; allow-nothing (ALLOW, no rules) denies; allow-all rule allows', () => {
  assert.equal(allowed([], req()), true);
  const nothing = compileAuthz([pol('ALLOW', [])]).evaluate(req());
  assert.deepEqual([nothing.allowed, nothing.reason], [false, 'no-allow-match']);
  assert.equal(allowed([pol('ALLOW', [{}])], req()), true);
  // DENY with no rules matches nothing.
  assert.equal(allowed([pol('DENY', [])], req()), true);
});

test('DENY wins over ALLOW; denial names the policy and its provenance', () => {
  const d = compileAuthz([pol('ALLOW', [{}], 'foo/allow-all'), pol('DENY', [{ to: [{ methods: ['POST'] }] }], 'foo/deny-post')]).evaluate(req({ method: 'POST' }));
  assert.equal(d.allowed, false);
  assert.equal(d.reason, 'denied');
  assert.equal(d.policy, 'foo/deny-post');
  assert.equal(d.provenance?.name, 'deny-post');
});

test('AUDIT marks but never decides', () => {
  const d = compileAuthz([pol('AUDIT', [{ to: [{ paths: ['/info'] }] }], 'foo/audit')]).evaluate(req());
  assert.deepEqual([d.allowed, d.audited], [true, ['foo/audit']]);
  const d2 = compileAuthz([pol('AUDIT', [{}], 'foo/audit'), pol('ALLOW', [{ to: [{ methods: ['GET'] }] }])]).evaluate(req({ method: 'POST' }));
  assert.deepEqual([d2.allowed, d2.audited], [false, ['foo/audit']]);
});

test('methods: GET allowed, POST denied from the same principal', () => {
  const ps = [pol('ALLOW', [{ from: [{ principals: ['cluster.local/ns/foo/sa/sleep'] }], to: [{ methods: ['GET'] }] }])];
  assert.equal(allowed(ps, req({ method: 'GET' })), true);
  assert.equal(allowed(ps, req({ method: 'POST' })), false);
  assert.equal(allowed([pol('ALLOW', [{ to: [{ notMethods: ['POST'] }] }])], req({ method: 'POST' })), false);
});

test('principals / notPrincipals, with wildcards; plaintext has no principal', () => {
  const ps = [pol('ALLOW', [{ from: [{ principals: ['cluster.local/ns/foo/*'] }] }])];
  assert.equal(allowed(ps, req()), true);
  assert.equal(allowed(ps, req({ principal: B })), false);
  assert.equal(allowed([pol('ALLOW', [{ from: [{ principals: ['*'] }] }])], req({ principal: undefined })), false);
  assert.equal(allowed([pol('ALLOW', [{ from: [{ principals: ['*'] }] }])], req()), true);
  assert.equal(allowed([pol('ALLOW', [{ from: [{ principals: ['*/sa/sleep'] }] }])], req()), true);
  const notP = [pol('DENY', [{ from: [{ notPrincipals: ['cluster.local/ns/foo/sa/sleep'] }] }])];
  assert.equal(allowed(notP, req()), true);
  assert.equal(allowed(notP, req({ principal: B })), false);
  // A plaintext caller is "not" any principal: denied by the DENY-notPrincipals policy.
  assert.equal(allowed(notP, req({ principal: undefined })), false);
});

test('namespaces / notNamespaces come from the peer identity', () => {
  assert.equal(allowed([pol('ALLOW', [{ from: [{ namespaces: ['foo'] }] }])], req()), true);
  assert.equal(allowed([pol('ALLOW', [{ from: [{ namespaces: ['foo'] }] }])], req({ principal: B })), false);
  assert.equal(allowed([pol('ALLOW', [{ from: [{ namespaces: ['b*'] }] }])], req({ principal: B })), true);
  assert.equal(allowed([pol('DENY', [{ from: [{ notNamespaces: ['foo'] }] }])], req({ principal: B })), false);
  assert.equal(allowed([pol('DENY', [{ from: [{ notNamespaces: ['foo'] }] }])], req()), true);
});

test('ipBlocks / notIpBlocks on the direct peer; remoteIpBlocks on the original client', () => {
  assert.equal(allowed([pol('ALLOW', [{ from: [{ ipBlocks: ['10.0.0.0/24'] }] }])], req()), true);
  assert.equal(allowed([pol('ALLOW', [{ from: [{ ipBlocks: ['10.0.9.0/24'] }] }])], req()), false);
  assert.equal(allowed([pol('ALLOW', [{ from: [{ ipBlocks: ['10.0.0.5'] }] }])], req({ sourceIp: '::ffff:10.0.0.5' })), true);
  assert.equal(allowed([pol('DENY', [{ from: [{ notIpBlocks: ['10.0.0.0/8'] }] }])], req({ sourceIp: '192.168.1.1' })), false);
  const remote = [pol('ALLOW', [{ from: [{ remoteIpBlocks: ['203.0.113.0/24'] }] }])];
  assert.equal(allowed(remote, req({ remoteIp: '203.0.113.7' })), true);
  assert.equal(allowed(remote, req()), false);
  assert.equal(allowed([pol('DENY', [{ from: [{ notRemoteIpBlocks: ['203.0.113.0/24'] }] }])], req({ remoteIp: '203.0.113.7' })), true);
});

test('serviceAccounts arrive as principals (translation turns them into principals)', () => {
  assert.equal(allowed([pol('ALLOW', [{ from: [{ principals: ['cluster.local/ns/foo/sa/sleep'] }] }])], req()), true);
});

test('to.operation hosts (case-insensitive, port optional), ports, paths with prefix/suffix *', () => {
  assert.equal(allowed([pol('ALLOW', [{ to: [{ hosts: ['HTTPBIN.foo'] }] }])], req()), true);
  assert.equal(allowed([pol('ALLOW', [{ to: [{ hosts: ['*.bar'] }] }])], req()), false);
  assert.equal(allowed([pol('DENY', [{ to: [{ notHosts: ['httpbin.*'] }] }])], req()), true);
  assert.equal(allowed([pol('ALLOW', [{ to: [{ ports: ['8080'] }] }])], req()), true);
  assert.equal(allowed([pol('ALLOW', [{ to: [{ ports: ['9090'] }] }])], req()), false);
  assert.equal(allowed([pol('DENY', [{ to: [{ notPorts: ['8080'] }] }])], req()), true);
  assert.equal(allowed([pol('ALLOW', [{ to: [{ paths: ['/info'] }] }])], req()), true);
  assert.equal(allowed([pol('ALLOW', [{ to: [{ paths: ['/api/*'] }] }])], req({ path: '/api/v1/x' })), true);
  assert.equal(allowed([pol('ALLOW', [{ to: [{ paths: ['/api/*'] }] }])], req()), false);
  assert.equal(allowed([pol('ALLOW', [{ to: [{ paths: ['*.html'] }] }])], req({ path: '/a/index.html' })), true);
  assert.equal(allowed([pol('DENY', [{ to: [{ notPaths: ['/healthz'] }] }])], req()), false);
});

test('a rule ANDs from/to/when; lists OR; rules OR', () => {
  const ps = [pol('ALLOW', [
    { from: [{ namespaces: ['bar'] }, { principals: ['cluster.local/ns/foo/sa/sleep'] }], to: [{ methods: ['GET'] }], when: [{ key: 'request.headers[x-token]', values: ['abc'] }] },
  ])];
  assert.equal(allowed(ps, req()), true);
  assert.equal(allowed(ps, req({ header: () => undefined })), false);
  assert.equal(allowed(ps, req({ method: 'PUT' })), false);
  const two = [pol('ALLOW', [{ to: [{ methods: ['PUT'] }] }, { to: [{ paths: ['/info'] }] }])];
  assert.equal(allowed(two, req({ method: 'PUT', path: '/x' })), true);
  assert.equal(allowed(two, req({ method: 'GET', path: '/x' })), false);
});

test('when: source.ip, source.namespace, source.principal, request.headers, destination.ip/port, connection.sni, remote.ip', () => {
  const w = (key: string, values?: string[], notValues?: string[]): AuthzPolicy[] => [pol('ALLOW', [{ when: [{ key, ...(values ? { values } : {}), ...(notValues ? { notValues } : {}) }] }])];
  assert.equal(allowed(w('source.ip', ['10.0.0.0/16']), req()), true);
  assert.equal(allowed(w('source.ip', ['10.9.0.0/16']), req()), false);
  assert.equal(allowed(w('remote.ip', ['10.0.0.5']), req()), true);
  assert.equal(allowed(w('source.namespace', ['foo']), req()), true);
  assert.equal(allowed(w('source.namespace', ['bar']), req()), false);
  assert.equal(allowed(w('source.principal', ['cluster.local/ns/foo/sa/sleep']), req()), true);
  assert.equal(allowed(w('source.principal', undefined, ['cluster.local/ns/foo/sa/sleep']), req()), false);
  assert.equal(allowed(w('request.headers[X-Token]', ['ab*']), req()), true);
  assert.equal(allowed(w('request.headers[x-token]', ['zzz']), req()), false);
  assert.equal(allowed(w('request.headers[x-token]', undefined, ['abc']), req()), false);
  assert.equal(allowed(w('destination.ip', ['10.0.1.0/24']), req()), true);
  assert.equal(allowed(w('destination.ip', ['10.0.2.0/24']), req()), false);
  assert.equal(allowed(w('destination.port', ['8080']), req()), true);
  assert.equal(allowed(w('destination.port', ['80']), req()), false);
  assert.equal(allowed(w('connection.sni', ['*.svc.cluster.local']), req({ sni: 'httpbin.foo.svc.cluster.local' })), true);
  assert.equal(allowed(w('connection.sni', ['*.svc.cluster.local']), req()), false);
});

test('request.auth.* and requestPrincipals: supported (RequestAuthentication), never present on a request without a JWT', () => {
  const c = compileAuthz([pol('ALLOW', [{ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }, { from: [{ requestPrincipals: ['*'] }] }])]);
  assert.deepEqual(c.warnings.map((w) => w.code), []);
  assert.equal(c.evaluate(req()).allowed, false);
  // notRequestPrincipals ["*"] in DENY = "deny requests without a JWT": this one has none.
  assert.equal(allowed([pol('DENY', [{ from: [{ notRequestPrincipals: ['*'] }] }])], req()), false);
});

test('TCP: ALLOW rules with HTTP-only fields never match; DENY drops them (denies more)', () => {
  const tcp = req({ http: false, method: undefined, path: undefined, host: undefined, header: undefined });
  assert.equal(allowed([pol('ALLOW', [{ to: [{ ports: ['8080'], methods: ['GET'] }] }])], tcp), false);
  assert.equal(allowed([pol('ALLOW', [{ to: [{ ports: ['8080'] }] }])], tcp), true);
  assert.equal(allowed([pol('DENY', [{ to: [{ ports: ['8080'], methods: ['GET'] }] }])], tcp), false);
  assert.equal(allowed([pol('DENY', [{ to: [{ ports: ['9090'], methods: ['GET'] }] }])], tcp), true);
  assert.equal(allowed([pol('ALLOW', [{ from: [{ principals: [A.slice(9)] }] }])], tcp), true);
});
