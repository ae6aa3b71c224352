import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseSnapshot, validateSnapshot } from '../../common/snapshot-validate.ts';

const basicText = readFileSync(new URL('../fixtures/snapshots/basic.json', import.meta.url), 'utf8');
const basic = (): Record<string, any> => JSON.parse(basicText); // eslint-disable-line @typescript-eslint/no-explicit-any

function errorsOf(value: unknown): string[] {
  const res = validateSnapshot(value);
  return res.ok ? [] : res.errors.map((e) => `${e.path}: ${e.reason}`);
}

test('the basic fixture snapshot is valid', () => {
  const res = parseSnapshot(basicText);
  assert.equal(res.ok, true, JSON.stringify(res));
  if (res.ok) assert.equal(res.snapshot.version, 'basic-1');
});

test('non-JSON text is refused at path $', () => {
  const res = parseSnapshot('{"version": ');
  assert.equal(res.ok, false);
  if (!res.ok) assert.equal(res.errors[0]?.path, '$');
});

test('a route to an unknown cluster is refused with its path', () => {
  const s = basic();
  s.routes[0].virtualHosts[0].routes[1].action.destinations[0].cluster = 'outbound|9080|v9|reviews';
  assert.deepEqual(errorsOf(s), ['routes[0].virtualHosts[0].routes[1].action.destinations[0].cluster: unknown cluster "outbound|9080|v9|reviews"']);
});

test('all-zero weights are refused', () => {
  const s = basic();
  for (const d of s.routes[0].virtualHosts[0].routes[1].action.destinations) d.weight = 0;
  assert.deepEqual(errorsOf(s), ['routes[0].virtualHosts[0].routes[1].action.destinations: destination weights must not all be 0']);
});

test('a regex that is not RE2 (lookahead) is refused', () => {
  const s = basic();
  s.routes[0].virtualHosts[0].routes[0].match[0].headers['end-user'] = { type: 'regex', value: '(?=jason)' };
  const errs = errorsOf(s);
  assert.equal(errs.length, 1);
  assert.match(errs[0] ?? '', /^routes\[0\]\.virtualHosts\[0\]\.routes\[0\]\.match\[0\]\.headers\.end-user\.value: invalid RE2 regex/);
});

test('a listener referencing a missing route table, a bad port and a missing provenance are all reported', () => {
  const s = basic();
  s.listeners[0].routeTable = 'nope';
  s.listeners[1].port = 70000;
  delete s.clusters[0].provenance;
  const errs = errorsOf(s);
  assert.ok(errs.includes('listeners[0].routeTable: unknown route table "nope"'), errs.join('\n'));
  assert.ok(errs.includes('listeners[1].port: must be an integer in [0, 65535]'.replace('[0', '[1')), errs.join('\n'));
  assert.ok(errs.includes('clusters[0].provenance: must be an object'), errs.join('\n'));
});

test('duplicate cluster names, a cluster without endpoints and a bad endpoint address are refused', () => {
  const s = basic();
  s.clusters[1].name = s.clusters[0].name;
  s.clusters[1].endpointSet = 'missing';
  s.endpoints[0].endpoints[0].address = 'reviews.local';
  const errs = errorsOf(s);
  assert.ok(errs.some((e) => e.startsWith('clusters[1].name: duplicate name')), errs.join('\n'));
  assert.ok(errs.includes('clusters[1].endpointSet: unknown endpoint set "missing"'), errs.join('\n'));
  assert.ok(errs.includes('endpoints[0].endpoints[0].address: must be an IP address'), errs.join('\n'));
});

test('RING_HASH without hashOn, an unknown mTLS mode and sampling over 100 are refused', () => {
  const s = basic();
  s.clusters[0].loadBalancer = { policy: 'RING_HASH' };
  s.security.peerAuthentication.mode = 'STRICTEST';
  s.telemetry.tracing.samplingPercent = 150;
  const errs = errorsOf(s);
  assert.ok(errs.includes('clusters[0].loadBalancer.hashOn: required for RING_HASH'), errs.join('\n'));
  assert.ok(errs.some((e) => e.startsWith('security.peerAuthentication.mode: must be one of')), errs.join('\n'));
  assert.ok(errs.includes('telemetry.tracing.samplingPercent: must be a number in [0, 100]'), errs.join('\n'));
});

test('a redirect code outside 3xx and a fault abort without a status are refused', () => {
  const s = basic();
  s.routes[0].virtualHosts[0].routes[0].action = { kind: 'redirect', redirect: { redirectCode: 200 } };
  s.routes[0].virtualHosts[0].routes[1].fault = { abort: { percentage: 10 } };
  const errs = errorsOf(s);
  assert.ok(errs.includes('routes[0].virtualHosts[0].routes[0].action.redirect.redirectCode: must be an integer in [300, 399]'), errs.join('\n'));
  assert.ok(errs.includes('routes[0].virtualHosts[0].routes[1].fault.abort: needs httpStatus or grpcStatus'), errs.join('\n'));
});

test('an empty prefix (header present) is accepted, an empty exact match is refused', () => {
  const s = basic();
  s.routes[0].virtualHosts[0].routes[0].match[0].headers['end-user'] = { type: 'prefix', value: '' };
  assert.deepEqual(errorsOf(s), []);
  s.routes[0].virtualHosts[0].routes[0].match[0].headers['end-user'] = { type: 'exact', value: '' };
  assert.deepEqual(errorsOf(s), ['routes[0].virtualHosts[0].routes[0].match[0].headers.end-user.value: must be a non-empty string']);
});
