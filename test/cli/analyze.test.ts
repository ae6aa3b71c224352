/**
 * `meshlet analyze`: each fixture made to have one problem yields exactly that code (and a
 * file:line), the clean demo and explain fixture yield nothing; exit codes 1 and 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Store } from '../../operator/store/store.ts';
import { buildWorld } from '../../operator/world/build.ts';
import { analyze } from '../../cli/analyze/rules.ts';
import { loadDirectory } from '../../cli/analyze/load.ts';
import { BIN } from './helpers/local-process.ts';

const fixture = (name: string): string => new URL(`../fixtures/analyze/${name}`, import.meta.url).pathname;
const EXPECTED: Record<string, { code: string; object: string }> = {
  'unknown-subset': { code: 'MESHLET_ANALYZE_UNKNOWN_SUBSET', object: 'VirtualService default/reviews' },
  'dr-no-service': { code: 'MESHLET_ANALYZE_DR_NO_SERVICE', object: 'DestinationRule default/ratings' },
  'selects-nothing': { code: 'MESHLET_ANALYZE_SELECTS_NOTHING', object: 'AuthorizationPolicy default/reviews-get' },
  'strict-no-sidecar': { code: 'MESHLET_ANALYZE_STRICT_NO_SIDECAR', object: 'PeerAuthentication default/default' },
  'vs-conflict': { code: 'MESHLET_ANALYZE_VS_CONFLICT', object: 'VirtualService default/reviews-b' },
  'injection-missing': { code: 'MESHLET_ANALYZE_INJECTION_MISSING', object: 'Pod shop/web-1' },
};

interface JsonFinding { code: string; object: { kind: string; namespace: string; name: string }; origin: string | null; hint: string }

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'analyze', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const [name, want] of Object.entries(EXPECTED)) {
  test(`analyze finds ${want.code} in fixture ${name}, and nothing else`, () => {
    const r = cli('--local', fixture(name), '-o', 'json');
    assert.equal(r.code, 1, r.stderr);
    const findings = JSON.parse(r.stdout) as JsonFinding[];
    assert.deepEqual(findings.map((f) => [f.code, `${f.object.kind} ${f.object.namespace}/${f.object.name}`]), [[want.code, want.object]]);
    assert.match(findings[0]!.origin ?? '', new RegExp(`fixtures/analyze/${name}/\\w+\\.yaml:\\d+$`));
    assert.ok(findings[0]!.hint.length > 10);
  });
}

test('the clean demo and the explain fixture have no problems (exit 0)', () => {
  for (const dir of [new URL('../../examples/demo/mesh', import.meta.url).pathname, new URL('../fixtures/explain/mesh', import.meta.url).pathname]) {
    const r = cli('--local', dir);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /no problems found/);
  }
});

test('text output names code, object, path, file:line and the hint', () => {
  const r = cli('-f', fixture('unknown-subset'));
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Error \[MESHLET_ANALYZE_UNKNOWN_SUBSET\] VirtualService default\/reviews spec\.http\[0\]\.route\[1\]\.destination\.subset: subset "v2" of host reviews\.default\.svc\.cluster\.local: DestinationRule default\/reviews defines v1 {2}\(.*rules\.yaml:\d+\)\n {2}hint: /);
});

test('pure analysis: a STRICT port-level override on a sidecar-less workload is found; PERMISSIVE for it is not', () => {
  const loaded = loadDirectory(fixture('strict-no-sidecar'));
  const world = (objs: typeof loaded.objects) => {
    const s = new Store();
    s.replace(objs.map((object) => ({ object })), () => true);
    return buildWorld(s.acceptedObjects());
  };
  const permissive = loaded.objects.map((o) => (o.kind === 'PeerAuthentication' ? { ...o, spec: { mtls: { mode: 'PERMISSIVE' } } } : o));
  assert.deepEqual(analyze(world(permissive)), []);
  const portLevel = [...permissive, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'legacy', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'legacy' } }, portLevelMtls: { '8080': { mode: 'STRICT' } } } }];
  const f = analyze(world(portLevel));
  assert.deepEqual(f.map((x) => [x.code, x.object.name]), [['MESHLET_ANALYZE_STRICT_NO_SIDECAR', 'legacy']]);
  assert.match(f[0]!.message, /STRICT on port\(s\) 8080 applies to WorkloadEntry default\/legacy-1/);
});

test('a cluster that cannot be reached is a runtime failure (exit 3) naming the apiserver', () => {
  const r = spawnSync(process.execPath, [BIN, 'analyze', '--kubeconfig', new URL('../fixtures/analyze/unreachable.kubeconfig', import.meta.url).pathname], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stderr, /https:\/\/127\.0\.0\.1:9 .*\[MESHLET_CLI_CLUSTER_UNREACHABLE\]/);
});
