import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mtlsModeForPort, resolvePeerAuthentication, type PeerAuthenticationObject, type PeerAuthMode } from '../../common/security/peer-auth.ts';

function pa(namespace: string, name: string, mode: PeerAuthMode | undefined, extra: Partial<PeerAuthenticationObject['spec']> = {}, ts = '2026-01-01T00:00:00Z'): PeerAuthenticationObject {
  return { metadata: { name, namespace, creationTimestamp: ts }, spec: { ...(mode === undefined ? {} : { mtls: { mode } }), ...extra } };
}
const wl = { namespace: 'foo', labels: { app: 'finance' } };

test('nothing configured: PERMISSIVE from the mesh default', () => {
  const s = resolvePeerAuthentication([], wl);
  assert.equal(s.mode, 'PERMISSIVE');
  assert.deepEqual(s.provenance, { kind: 'default', namespace: '', name: 'mesh' });
});

test('mesh STRICT applies; namespace overrides mesh; workload overrides namespace', () => {
  const mesh = pa('meshlet-system', 'default', 'STRICT');
  assert.equal(resolvePeerAuthentication([mesh], wl).mode, 'STRICT');
  const ns = pa('foo', 'default', 'PERMISSIVE');
  assert.equal(resolvePeerAuthentication([mesh, ns], wl).mode, 'PERMISSIVE');
  const w = pa('foo', 'finance', 'DISABLE', { selector: { matchLabels: { app: 'finance' } } });
  const s = resolvePeerAuthentication([mesh, ns, w], wl);
  assert.equal(s.mode, 'DISABLE');
  assert.deepEqual(s.provenance, { kind: 'PeerAuthentication', namespace: 'foo', name: 'finance' });
  // A selector that does not match the workload changes nothing.
  assert.equal(resolvePeerAuthentication([mesh, ns, pa('foo', 'x', 'DISABLE', { selector: { matchLabels: { app: 'other' } } })], wl).mode, 'PERMISSIVE');
  // Another namespace's policy does not apply.
  assert.equal(resolvePeerAuthentication([mesh, pa('bar', 'default', 'DISABLE')], wl).mode, 'STRICT');
});

test('UNSET inherits from the level above', () => {
  const mesh = pa('meshlet-system', 'default', 'STRICT');
  const ns = pa('foo', 'default', 'UNSET');
  const w = pa('foo', 'finance', 'UNSET', { selector: { matchLabels: { app: 'finance' } }, portLevelMtls: { '8080': { mode: 'DISABLE' } } });
  const s = resolvePeerAuthentication([mesh, ns, w], wl);
  assert.equal(s.mode, 'STRICT');
  assert.equal(mtlsModeForPort(s, 8080), 'DISABLE');
  assert.equal(mtlsModeForPort(s, 9090), 'STRICT');
});

test('port level wins over workload level; port UNSET inherits; namespace-level portLevelMtls ignored', () => {
  const w = pa('foo', 'finance', 'STRICT', { selector: { matchLabels: { app: 'finance' } }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' }, '9000': { mode: 'UNSET' } } });
  const s = resolvePeerAuthentication([w], wl);
  assert.equal(mtlsModeForPort(s, 8080), 'PERMISSIVE');
  assert.equal(mtlsModeForPort(s, 9000), 'STRICT');
  const ns = pa('foo', 'default', 'STRICT', { portLevelMtls: { '8080': { mode: 'DISABLE' } } });
  assert.equal(mtlsModeForPort(resolvePeerAuthentication([ns], wl), 8080), 'STRICT');
});

test('selector policies in the root namespace are ignored for other namespaces; oldest wins at one level', () => {
  const rootSel = pa('meshlet-system', 'sel', 'DISABLE', { selector: { matchLabels: { app: 'finance' } } });
  assert.equal(resolvePeerAuthentication([rootSel], wl).mode, 'PERMISSIVE');
  const older = pa('foo', 'b-old', 'STRICT', {}, '2025-01-01T00:00:00Z');
  const newer = pa('foo', 'a-new', 'DISABLE', {}, '2026-01-01T00:00:00Z');
  assert.equal(resolvePeerAuthentication([newer, older], wl).mode, 'STRICT');
});
