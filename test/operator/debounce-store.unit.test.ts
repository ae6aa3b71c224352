/** Debounce on virtual time, and the store's last-accepted semantics. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer } from '../../operator/store/debounce.ts';
import { ManualClock } from '../../common/clock.ts';
import { Store } from '../../operator/store/store.ts';
import { buildWorld } from '../../operator/world/build.ts';
import type { K8sObject } from '../../operator/world/objects.ts';

test('debounce fires 100 ms after the last change', () => {
  const t = new ManualClock();
  const fired: number[] = [];
  const d = new Debouncer((first) => fired.push(first), { timers: t });
  d.trigger();
  t.advance(60);
  d.trigger();
  t.advance(99);
  assert.deepEqual(fired, []);
  t.advance(1);
  assert.deepEqual(fired, [0], 'fired at 160 ms with the time of the first change');
});

test('a steady stream of changes still fires at most 1 s after the first', () => {
  const t = new ManualClock();
  const at: number[] = [];
  const d = new Debouncer(() => at.push(t.now()), { timers: t });
  for (let i = 0; i < 30; i++) {
    d.trigger();
    t.advance(50);
  }
  assert.deepEqual(at, [1000]);
});

const vs = (timeout: string): K8sObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'r', namespace: 'default', generation: 1 },
  spec: { hosts: ['r'], http: [{ timeout, route: [{ destination: { host: 'r' } }] }] },
});

test('an invalid update keeps the last accepted version in the World', () => {
  const s = new Store();
  const changes: string[][] = [];
  s.onChange((c) => changes.push(c.content));
  s.upsert({ object: vs('1s') });
  const w1 = buildWorld(s.acceptedObjects());
  s.upsert({ object: vs('sometime') });
  assert.equal(s.invalid().length, 1);
  assert.equal(buildWorld(s.acceptedObjects()).hash, w1.hash, 'World unchanged');
  assert.deepEqual(changes, [['VirtualService/default/r'], []], 'the invalid update is not a content change');
  s.upsert({ object: vs('2s') });
  assert.notEqual(buildWorld(s.acceptedObjects()).hash, w1.hash);
});

test('World hash does not depend on input order; Worlds are frozen', () => {
  const a: K8sObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'x' }, spec: { ports: [{ name: 'http', port: 80 }] } };
  const b: K8sObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b', namespace: 'x' }, spec: { ports: [{ name: 'http', port: 80 }] } };
  const w1 = buildWorld([a, b]);
  const w2 = buildWorld([b, a]);
  assert.equal(w1.hash, w2.hash);
  assert.ok(Object.isFrozen(w1.services[0]));
});

test('the store fingerprint is order-free and returns to its value when a change is undone', () => {
  const mk = (n: string): K8sObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: n, namespace: 'x' }, spec: { ports: [{ name: 'http', port: 80 }] } });
  const a = new Store();
  const b = new Store();
  a.replace([{ object: mk('a') }, { object: mk('b') }], () => true);
  b.replace([{ object: mk('b') }, { object: mk('a') }], () => true);
  assert.equal(a.fingerprint(), b.fingerprint());
  const before = a.fingerprint();
  a.upsert({ object: mk('c') });
  assert.notEqual(a.fingerprint(), before);
  a.remove('Service/x/c');
  assert.equal(a.fingerprint(), before);
});
