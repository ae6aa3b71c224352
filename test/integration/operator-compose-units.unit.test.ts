// Pure parts of the operator composition: which namespaces became injected, what mesh.yaml sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectedNamespaces, newlyInjected } from '../../operator/compose/root-publish.ts';
import { meshSettingsFrom } from '../../operator/compose/mesh-config.ts';
import { buildWorld } from '../../operator/world/build.ts';
import { proxyPart } from '../../operator/translate/index.ts';

test('injected namespaces follow DESIGN.md §2 labels; only new ones trigger a publish', () => {
  const ns = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  const w = buildWorld([ns('a', { 'sidecar.inject': 'true' }), ns('b', { 'istio-injection': 'enabled' }), ns('c', { 'sidecar.inject': 'false' }), ns('d', {})]);
  const now = injectedNamespaces(w);
  assert.deepEqual([...now].sort(), ['a', 'b']);
  assert.deepEqual(newlyInjected(new Set(['a']), now), ['b']);
  assert.deepEqual(newlyInjected(now, now), []);
});

test('mesh.yaml (the chart\'s shape) gives telemetry, trust domain and webhook names', () => {
  const s = meshSettingsFrom({ trustDomain: 'example.org', accessLog: { enabled: true }, tracing: { endpoint: '', samplingPercent: 5 }, webhooks: { mutating: 'meshlet-sidecar-injector', validating: '' }, ca: { rootTTL: '87600h' } });
  assert.equal(s.trustDomain, 'example.org');
  assert.deepEqual(s.telemetry, { accessLog: { enabled: true }, tracing: { endpoint: '', samplingPercent: 5 } });
  assert.deepEqual(s.validatingConfigurations, [], 'validation turned off in the chart: no validating configuration');
  assert.deepEqual(s.mutatingConfigurations, ['meshlet-sidecar-injector']);
  assert.deepEqual(meshSettingsFrom(null), { telemetry: {} });
});

test('translation reads mesh telemetry from the World and pod annotations win; the World hash changes with the settings', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', annotations: { 'telemetry.meshlet.io/access-log': 'false' } }, spec: { serviceAccountName: 'sa', containers: [{ name: 'meshlet-proxy' }] }, status: { podIP: '10.0.0.1' } };
  const plain = buildWorld([pod]);
  const tuned = buildWorld([pod], { meshTelemetry: { accessLog: { enabled: true }, tracing: { samplingPercent: 20 } } });
  assert.notEqual(plain.hash, tuned.hash);
  const id = { id: 'p.ns', namespace: 'ns', serviceAccount: 'sa', ip: '10.0.0.1', labels: {} };
  assert.deepEqual(proxyPart(plain, id as never).telemetry, { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } });
  assert.deepEqual(proxyPart(tuned, id as never).telemetry, { metrics: true, accessLog: false, tracing: { samplingPercent: 20 } }, 'pod annotation turns the access log off');
});
