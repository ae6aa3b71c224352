/**
 * The side panel's facts from a real World (the demo's YAML loaded as the operator loads a
 * directory) and the CLI's own analyze and explain: config that applies to an app and to a
 * call, the configured split, the explain of a sample request, finding and NACK badges, the
 * traces link, and the YAML of one object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { uiExtras } from '../../cli/graph/ui-extras.ts';
import { LOCAL_INBOUND_PORT } from '../../cli/local/plan.ts';
import { loadLocalWorld } from '../../operator/sources/local-dir.ts';
import { parseProxyId, resolveProxy, translate } from '../../operator/translate/index.ts';
import { Inspector, type InspectCore } from '../../operator/ui/inspect.ts';

function demoCore(extraYaml?: string): { core: InspectCore; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-inspect-'));
  cpSync(fileURLToPath(new URL('../../examples/demo/mesh', import.meta.url)), dir, { recursive: true });
  if (extraYaml !== undefined) writeFileSync(join(dir, 'extra.yaml'), extraYaml);
  const { world } = loadLocalWorld(dir, { localMode: { inboundPort: LOCAL_INBOUND_PORT } });
  const states = new Map<string, { identity: ProxySnapshot['proxy']; snapshot: ProxySnapshot; nack?: { version: string; error: string } }>();
  for (const w of world.workloads.filter((x) => x.hasSidecar)) {
    const identity = resolveProxy(world, parseProxyId(`${w.name}.${w.namespace}`)!);
    states.set(identity.id, { identity, snapshot: translate(world, identity) });
  }
  return { core: { world, proxies: { states } }, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a call: the VirtualService and DestinationRule that apply, the configured split, explain and traces link', () => {
  const { core, done } = demoCore();
  try {
    const i = new Inspector(core, uiExtras('http://jaeger.example:16686/'));
    const d = i.edge('app:default/frontend', 'app:default/reviews', ['reviews.default.svc.cluster.local']);
    assert.deepEqual(d.config.map((c) => `${c.kind} ${c.namespace}/${c.name}`).sort(), ['AuthorizationPolicy default/reviews-frontend-get', 'DestinationRule default/reviews', 'VirtualService default/reviews']);
    assert.deepEqual(d.configured, [
      { host: 'reviews.default.svc.cluster.local', route: 'premium', destinations: [{ subset: 'v3', version: 'v3', weight: 100 }] },
      { host: 'reviews.default.svc.cluster.local', route: 'canary', destinations: [{ subset: 'v1', version: 'v1', weight: 80 }, { subset: 'v2', version: 'v2', weight: 20 }] },
    ]);
    assert.ok(d.explain !== undefined && 'result' in d.explain, JSON.stringify(d.explain));
    assert.equal(d.explain.proxy, 'frontend.default');
    assert.equal(d.explain.url, 'http://reviews.default.svc.cluster.local:9080/');
    assert.equal(d.explain.result.outcome, 'forward');
    assert.equal(d.explain.result.route?.name, 'canary');
    assert.deepEqual(d.explain.result.destinations.map((x) => [x.subset, x.percent]), [['v1', 80], ['v2', 20]]);
    const traces = new URL(d.traces!);
    assert.equal(traces.pathname, '/search');
    assert.equal(traces.searchParams.get('service'), 'frontend.default');
    assert.match(i.yaml('VirtualService', 'default', 'reviews') ?? '', /^kind: VirtualService\nmetadata:\n {2}name: reviews\n {2}namespace: default\nspec:\n {2}hosts:\n {4}- reviews/);
    assert.equal(i.yaml('VirtualService', 'default', 'nope'), undefined);
    // A node: the config of the services that select it, and the AuthorizationPolicies selecting its workloads.
    assert.deepEqual(i.node('app:default/ratings').config.map((c) => c.kind).sort(), ['DestinationRule', 'VirtualService']);
    assert.deepEqual(i.node('app:default/reviews').config.map((c) => c.kind).sort(), ['AuthorizationPolicy', 'DestinationRule', 'VirtualService']);
    assert.deepEqual(i.badges(['app:default/frontend', 'app:default/reviews', 'app:default/ratings']), {}, 'the demo is clean');
  } finally {
    done();
  }
});

test('badges: analyze findings on config aimed at an app, and NACKed proxies; the panel lists them with codes', () => {
  const { core, done } = demoCore(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ratings-canary, namespace: default}
spec:
  selector: {matchLabels: {app: ratings, version: v9}}
  action: DENY
  rules: [{from: [{source: {principals: [nobody]}}]}]
`);
  try {
    const s = core.proxies.states.get('reviews-v2.default')!;
    s.nack = { version: 'v7', error: 'MESHLET_SNAPSHOT_INVALID: routes[0]' };
    const i = new Inspector(core, uiExtras());
    assert.deepEqual(i.badges(['app:default/frontend', 'app:default/reviews', 'app:default/ratings']), {
      'app:default/ratings': { findings: 1, nacks: 0 },
      'app:default/reviews': { findings: 0, nacks: 1 },
    });
    const f = i.node('app:default/ratings').findings;
    assert.deepEqual(f.map((x) => `${x.code} ${x.object.kind}/${x.object.name} ${x.path ?? ''}`), ['MESHLET_ANALYZE_SELECTS_NOTHING AuthorizationPolicy/ratings-canary spec.selector.matchLabels']);
    assert.deepEqual(i.node('app:default/reviews').nacks, [{ proxy: 'reviews-v2.default', error: 'MESHLET_SNAPSHOT_INVALID: routes[0]' }]);
  } finally {
    done();
  }
});
