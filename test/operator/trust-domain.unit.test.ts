/**
 * The mesh's trust domain (chart `trustDomain`, operator --trust-domain) reaches translation:
 * the identities a proxy expects of its peers, its own identity, and the principals written
 * from `serviceAccounts` in an AuthorizationPolicy. With a constant cluster.local here, every
 * meshed connection of a mesh with another trust domain failed its SPIFFE check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseYamlObjects } from '../../operator/sources/yaml-docs.ts';
import { buildWorld } from '../../operator/world/build.ts';
import type { K8sObject } from '../../operator/world/objects.ts';
import { translate, resolveProxy } from '../../operator/translate/index.ts';

const objects: K8sObject[] = [
  ...parseYamlObjects(readFileSync('test/fixtures/translate/weighted-split/in.yaml', 'utf8'), 'in.yaml').objects.map((o) => o.object),
  {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'reviews-from-productpage', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'reviews' } }, rules: [{ from: [{ source: { serviceAccounts: ['productpage'] } }] }] },
  } as K8sObject,
];

function snapshots(trustDomain?: string): { caller: string; callee: string; calleeId: string } {
  const w = buildWorld(objects, trustDomain === undefined ? {} : { trustDomain });
  const callee = resolveProxy(w, { name: 'reviews-v1', namespace: 'default' });
  return {
    caller: JSON.stringify(translate(w, resolveProxy(w, { name: 'productpage-1', namespace: 'default' }))),
    callee: JSON.stringify(translate(w, callee)),
    calleeId: callee.spiffeId,
  };
}

test('a non-default trust domain is in the expected peer identities, the proxy identity and policy principals', () => {
  const s = snapshots('example.org');
  assert.equal(s.calleeId, 'spiffe://example.org/ns/default/sa/reviews');
  assert.match(s.caller, /"identity":"spiffe:\/\/example\.org\/ns\/default\/sa\/reviews"/);
  assert.match(s.callee, /"example\.org\/ns\/default\/sa\/productpage"/);
  assert.doesNotMatch(s.caller + s.callee, /cluster\.local\/ns\//);
});

test('without a trust domain it stays cluster.local, and the two Worlds differ', () => {
  const s = snapshots();
  assert.equal(s.calleeId, 'spiffe://cluster.local/ns/default/sa/reviews');
  assert.match(s.caller, /"identity":"spiffe:\/\/cluster\.local\/ns\/default\/sa\/reviews"/);
  assert.match(s.callee, /"cluster\.local\/ns\/default\/sa\/productpage"/);
  assert.notEqual(buildWorld(objects).hash, buildWorld(objects, { trustDomain: 'example.org' }).hash);
});
