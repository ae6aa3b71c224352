/** Unit tests of the value checks (pure), beside the fixture and apiserver tests. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, wildcardDomainProblem, cidrProblem } from '../../crds/rules/values.ts';
import { unenforcedWarnings, validateObject } from '../../crds/validate.ts';
import { lineOf, pathSegments } from '../../crds/yaml-positions.ts';
import { LineCounter, parseDocument } from 'yaml';

test('durations use Go/CEL syntax', () => {
  assert.equal(parseDuration('7s'), 7e9);
  assert.equal(parseDuration('1.5s'), 1.5e9);
  assert.equal(parseDuration('1h2m'), 3_720e9);
  assert.equal(parseDuration('250ms'), 250e6);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('10'), undefined);
  assert.equal(parseDuration('1x'), undefined);
  assert.equal(parseDuration(''), undefined);
});

test('hosts follow Istio wildcard-domain rules', () => {
  for (const ok of ['reviews', 'reviews.prod.svc.cluster.local', '*', '*.example.com', 'Example.COM', 'a.b.']) assert.equal(wildcardDomainProblem(ok), undefined, ok);
  for (const bad of ['', 'a..b', '*foo.com', 'foo.*.com', 'under_score', `${'a'.repeat(64)}.com`]) assert.notEqual(wildcardDomainProblem(bad), undefined, bad);
});

test('CIDRs and IPs', () => {
  for (const ok of ['10.0.0.1', '10.0.0.0/8', '::1', 'fd00::/64', '0.0.0.0/0']) assert.equal(cidrProblem(ok), undefined, ok);
  for (const bad of ['10.0.0.0/33', '10.0.0', 'fd00::/129', '1.2.3.4/x', 'a/b/c']) assert.notEqual(cidrProblem(bad), undefined, bad);
});

test('apiVersion, kind and name are checked before the spec', () => {
  const codes = (o: unknown): string[] => validateObject(o).map((m) => `${m.code} ${m.path}`);
  assert.deepEqual(codes('text'), ['MESHLET_CRD_NOT_OBJECT ']);
  assert.deepEqual(codes({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'x' }, spec: {} }), ['MESHLET_CRD_NOT_OBJECT kind']);
  assert.deepEqual(codes({ apiVersion: 'security.istio.io/v1alpha3', kind: 'PeerAuthentication', metadata: { name: 'x' }, spec: {} }), ['MESHLET_CRD_BAD_VERSION apiVersion']);
  assert.deepEqual(codes({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'Bad_Name' }, spec: {} }), ['MESHLET_CRD_METADATA metadata.name']);
  assert.deepEqual(codes({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'x' } }), ['MESHLET_CRD_REQUIRED spec']);
});

test('unenforcedWarnings returns only the accepted-but-unenforced fields that are set', () => {
  const ap = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'x' }, spec: { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] } };
  // requestPrincipals are enforced since RequestAuthentication is: no warning for them.
  assert.deepEqual(unenforcedWarnings(ap).map((m) => m.path), ['spec.provider']);
  assert.deepEqual(unenforcedWarnings({ ...ap, spec: { action: 'ALLOW' } }), []);
  const ra = { apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'x' }, spec: { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' }], jwtRules: [{ issuer: 'i' }] } };
  assert.deepEqual(unenforcedWarnings(ra).map((m) => m.path), ['spec.targetRefs']);
});

test('validation paths map to YAML lines, down to the deepest node present', () => {
  assert.deepEqual(pathSegments('spec.http[1].match[0].headers[end-user].exact'), ['spec', 'http', '1', 'match', '0', 'headers', 'end-user', 'exact']);
  const lines = new LineCounter();
  const doc = parseDocument('kind: X\nspec:\n  http:\n  - a: 1\n  - match:\n    - headers:\n        end-user: {exact: j}\n', { lineCounter: lines });
  assert.equal(lineOf(doc, 'spec.http[1].match[0].headers[end-user].exact', lines), 7);
  assert.equal(lineOf(doc, 'spec.http[1].route', lines), 5);
  assert.equal(lineOf(doc, 'spec.nothing', lines), 2);
});

test('direct responses over 100 KB warn and over 1 MB are refused', () => {
  const vs = (body: string): unknown => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'x' }, spec: { hosts: ['a'], http: [{ directResponse: { status: 200, body: { string: body } } }] } });
  const codes = (o: unknown): string[] => validateObject(o).map((m) => `${m.level} ${m.code} ${m.path}`);
  assert.deepEqual(codes(vs('x'.repeat(1000))), []);
  assert.deepEqual(codes(vs('x'.repeat(200 * 1024))), ['warning MESHLET_CRD_DIRECT_RESPONSE spec.http[0].directResponse.body']);
  assert.deepEqual(codes(vs('x'.repeat(1024 * 1024 + 1))), ['error MESHLET_CRD_DIRECT_RESPONSE spec.http[0].directResponse.body']);
});

test('gateways: ["mesh"] is enforced (no warning); naming another gateway warns', () => {
  const vs = (gateways: string[]): unknown => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'x' }, spec: { hosts: ['a'], gateways, http: [{ route: [{ destination: { host: 'a' } }] }] } });
  assert.deepEqual(unenforcedWarnings(vs(['mesh'])), []);
  assert.deepEqual(unenforcedWarnings(vs(['mesh', 'edge'])).map((m) => m.path), ['spec.gateways']);
});
