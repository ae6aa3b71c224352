/**
 * The content-addressed fragment cache never serves stale output: after each change the
 * cached translation equals a translation from an empty cache, and differs from before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseYamlObjects } from '../../operator/sources/yaml-docs.ts';
import { buildWorld } from '../../operator/world/build.ts';
import type { K8sObject } from '../../operator/world/objects.ts';
import { translate, resolveProxy } from '../../operator/translate/index.ts';
import { clearFragmentCache } from '../../operator/translate/fragments.ts';

const base = parseYamlObjects(readFileSync('test/fixtures/translate/weighted-split/in.yaml', 'utf8'), 'in.yaml').objects.map((o) => o.object);

function snap(objs: K8sObject[], ns = 'default', name = 'productpage-1'): string {
  const w = buildWorld(objs);
  return JSON.stringify(translate(w, resolveProxy(w, { name, namespace: ns })));
}

function edit(kind: string, name: string, fn: (o: K8sObject) => void): K8sObject[] {
  return base.map((o) => {
    if (o.kind !== kind || o.metadata.name !== name) return o;
    const copy = structuredClone(o);
    fn(copy);
    return copy;
  });
}

const changes: [string, K8sObject[]][] = [
  ['a destination endpoint changes labels', edit('WorkloadEntry', 'reviews-v2', (o) => ((o.spec as { labels: Record<string, string> }).labels.version = 'v9'))],
  ['a destination endpoint changes address', edit('WorkloadEntry', 'reviews-v1', (o) => ((o.spec as { address: string }).address = '127.0.20.9'))],
  ['a DestinationRule subset changes', edit('DestinationRule', 'reviews', (o) => ((o.spec as { subsets: { labels: Record<string, string> }[] }).subsets[0] as { labels: Record<string, string> }).labels = { version: 'v3' })],
  ['a VirtualService weight changes', edit('VirtualService', 'reviews', (o) => (((o.spec as { http: { route: { weight: number }[] }[] }).http[0]?.route[0] as { weight: number }).weight = 10))],
  ['a service port changes', edit('Service', 'reviews', (o) => ((o.spec as { ports: { port: number }[] }).ports[0] as { port: number }).port = 9090)],
];

for (const [what, objs] of changes) {
  test(`cache stays correct when ${what}`, () => {
    const before = snap(base);
    snap(base, 'other', 'x'); // warm the cache for another namespace too
    const cached = snap(objs);
    clearFragmentCache();
    const fresh = snap(objs);
    assert.equal(cached, fresh);
    assert.notEqual(cached, before);
  });
}
