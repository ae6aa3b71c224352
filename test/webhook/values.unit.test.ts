// Template values from the ConfigMap, per-pod overrides, version parsing and small pure helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshletError } from '../../common/errors.ts';
import { supportsNativeSidecars } from '../../webhook/cluster-version.ts';
import { webhookConfiguration } from '../../webhook/configuration.ts';
import { NamespaceCache } from '../../webhook/namespace-cache.ts';
import { applyOverrides } from '../../webhook/overrides.ts';
import { refreshDelayMs } from '../../common/security/serving-cert.ts';
import { DEFAULT_VALUES, templateVersion, valuesFromConfigMap } from '../../webhook/values.ts';

const invalid = (data: Record<string, string>, text: RegExp): void => {
  assert.throws(() => valuesFromConfigMap(data), (e: unknown) => e instanceof MeshletError && e.code === 'MESHLET_WEBHOOK_TEMPLATE_INVALID' && text.test(e.message));
};

test('no ConfigMap data means the built-in defaults', () => {
  assert.equal(valuesFromConfigMap(undefined), DEFAULT_VALUES);
  assert.equal(valuesFromConfigMap({ values: '' }), DEFAULT_VALUES);
});

test('ConfigMap values overlay the defaults deeply and change the template version', () => {
  const v = valuesFromConfigMap({ values: 'image: r.example/m:2\nproxy:\n  resources:\n    limits:\n      memory: 2Gi\n' });
  assert.equal(v.image, 'r.example/m:2');
  assert.equal(v.proxy.resources.limits.memory, '2Gi');
  assert.equal(v.proxy.resources.requests.cpu, '100m');
  assert.notEqual(templateVersion(v), templateVersion(DEFAULT_VALUES));
  assert.match(templateVersion(v), /^1-[0-9a-f]{10}$/);
});

test('bad template values are rejected with every problem named', () => {
  invalid({ values: 'image: [' }, /not YAML/);
  invalid({ values: '- a' }, /must be a mapping/);
  invalid({ values: 'proxy:\n  logLevel: loud\n  concurrency: -1' }, /proxy\.logLevel.*proxy\.concurrency/);
  invalid({ values: 'proxy:\n  resources:\n    requests:\n      cpu: lots' }, /proxy\.resources\.requests\.cpu/);
  invalid({ values: 'traffic:\n  excludeOutboundPorts: "80,http"' }, /traffic\.excludeOutboundPorts/);
  invalid({ values: 'traffic:\n  includeOutboundIPRanges: "10.0.0.0/33"' }, /traffic\.includeOutboundIPRanges/);
  invalid({ values: 'operatorAddress: meshlet' }, /operatorAddress/);
});

test('meshlet override names win over Istio\'s; values are checked', () => {
  const s = applyOverrides(DEFAULT_VALUES, { 'sidecar.istio.io/proxyCPU': '1', 'sidecar.meshlet.io/proxyCPU': '300m', 'sidecar.meshlet.io/concurrency': '8', 'traffic.sidecar.istio.io/includeInboundPorts': '8080,9090' });
  assert.equal(s.values.proxy.resources.requests.cpu, '300m');
  assert.equal(s.values.proxy.concurrency, 8);
  assert.equal(s.includeInboundPorts, '8080,9090');
  assert.equal(DEFAULT_VALUES.proxy.resources.requests.cpu, '100m', 'defaults untouched');
  for (const [k, v] of [['sidecar.istio.io/logLevel', 'chatty'], ['traffic.sidecar.istio.io/excludeOutboundIPRanges', '10.0.0.1'], ['sidecar.meshlet.io/excludeInboundPorts', '70000']]) {
    assert.throws(() => applyOverrides(DEFAULT_VALUES, { [k as string]: v as string }), (e: unknown) => e instanceof MeshletError && e.message.includes(k as string));
  }
});

test('native sidecars from 1.29 on', () => {
  assert.equal(supportsNativeSidecars('1', '29'), true);
  assert.equal(supportsNativeSidecars('1', '34+'), true);
  assert.equal(supportsNativeSidecars('1', '28'), false);
  assert.equal(supportsNativeSidecars('2', '0'), true);
  assert.equal(supportsNativeSidecars('', 'x'), false);
});

test('certificates are refreshed at two thirds of their life, never in the past', () => {
  const nb = new Date(0);
  const na = new Date(3000);
  assert.equal(refreshDelayMs(nb, na, 0), 2000);
  assert.equal(refreshDelayMs(nb, na, 2500), 0);
});

test('webhook configuration: Fail only for mesh-labelled namespaces, never system namespaces', () => {
  const cfg = webhookConfiguration({ target: { url: 'https://127.0.0.1:9443/' }, caBundlePem: 'PEM' });
  assert.deepEqual(cfg.webhooks?.map((w) => [w.name, w.failurePolicy, w.clientConfig.url]), [
    ['inject.sidecar.meshlet.io', 'Fail', 'https://127.0.0.1:9443/inject'],
    ['istio-inject.sidecar.meshlet.io', 'Fail', 'https://127.0.0.1:9443/inject'],
    ['optional-inject.sidecar.meshlet.io', 'Ignore', 'https://127.0.0.1:9443/inject'],
  ]);
  for (const w of cfg.webhooks ?? []) {
    assert.deepEqual(w.namespaceSelector?.matchExpressions?.at(-1), { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'meshlet-system'] });
    assert.equal(w.clientConfig.caBundle, Buffer.from('PEM').toString('base64'));
  }
});

test('namespace cache: one lookup per TTL, concurrent lookups shared, failures not cached', async () => {
  let now = 0;
  let calls = 0;
  let fail = false;
  const cache = new NamespaceCache({
    ttlMs: 1000,
    now: () => now,
    fetch: async (name) => {
      calls++;
      if (fail) throw new Error('down');
      return { name, labels: { n: String(calls) }, annotations: {} };
    },
  });
  const [a, b] = await Promise.all([cache.get('x'), cache.get('x')]);
  assert.equal(calls, 1);
  assert.equal(a, b);
  now = 999;
  await cache.get('x');
  assert.equal(calls, 1);
  now = 1000;
  assert.equal((await cache.get('x')).labels.n, '2');
  now = 5000;
  fail = true;
  await assert.rejects(cache.get('x'));
  fail = false;
  assert.equal((await cache.get('x')).labels.n, '4');
});

test('namespace cache: a lookup that never answers fails with a clear error instead of hanging', async () => {
  const cache = new NamespaceCache({ timeoutMs: 20, fetch: () => new Promise(() => {}) });
  await assert.rejects(cache.get('slow'), /no answer from the apiserver in 20 ms/);
});
