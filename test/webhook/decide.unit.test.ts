// The decision table: every pod gets a yes/no and a reason code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../webhook/decide.ts';
import type { NamespaceInfo, Pod } from '../../webhook/pod-types.ts';

const ns = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): NamespaceInfo => ({ name, labels, annotations });
const pod = (meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}, spec: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name: 'p', ...meta },
  spec: { containers: [{ name: 'app', image: 'app' }], ...spec },
});

const table: [string, Pod, NamespaceInfo, boolean, string][] = [
  ['labelled namespace', pod(), ns('shop', { 'sidecar.inject': 'true' }), true, 'namespace-label'],
  ['annotated namespace', pod(), ns('shop', {}, { 'sidecar.inject': 'true' }), true, 'namespace-annotation'],
  ['istio-injection=enabled', pod(), ns('shop', { 'istio-injection': 'enabled' }), true, 'istio-injection-label'],
  ['plain namespace', pod(), ns('shop'), false, 'namespace-not-enabled'],
  ['pod annotation opt-out', pod({ annotations: { 'sidecar.inject': 'false' } }), ns('shop', { 'sidecar.inject': 'true' }), false, 'pod-opt-out'],
  ['pod Istio label opt-out', pod({ labels: { 'sidecar.istio.io/inject': 'false' } }), ns('shop', { 'istio-injection': 'enabled' }), false, 'pod-opt-out'],
  ['pod annotation opt-in, plain namespace', pod({ annotations: { 'sidecar.istio.io/inject': 'true' } }), ns('shop'), true, 'pod-opt-in'],
  ['pod label opt-in', pod({ labels: { 'sidecar.inject': 'true' } }), ns('shop'), true, 'pod-opt-in'],
  ['kube-system, even labelled', pod({ annotations: { 'sidecar.inject': 'true' } }), ns('kube-system', { 'sidecar.inject': 'true' }), false, 'system-namespace'],
  ['meshlet-system', pod(), ns('meshlet-system', { 'sidecar.inject': 'true' }), false, 'system-namespace'],
  ['hostNetwork', pod({}, { hostNetwork: true }), ns('shop', { 'sidecar.inject': 'true' }), false, 'host-network'],
  ['already injected (container)', pod({}, { initContainers: [{ name: 'meshlet-proxy' }] }), ns('shop', { 'sidecar.inject': 'true' }), false, 'already-injected'],
  ['already injected (status)', pod({ annotations: { 'sidecar.meshlet.io/status': '{"result":"injected"}' } }), ns('shop', { 'sidecar.inject': 'true' }), false, 'already-injected'],
  ['namespace explicitly disabled beats pod opt-in', pod({ annotations: { 'sidecar.inject': 'true' } }), ns('shop', { 'istio-injection': 'disabled' }), false, 'namespace-disabled'],
  ['opt-out wins over opt-in label', pod({ annotations: { 'sidecar.inject': 'false' }, labels: { 'sidecar.inject': 'true' } }), ns('shop'), false, 'pod-opt-out'],
];

for (const [name, p, n, inject, reason] of table) {
  test(`decide: ${name}`, () => {
    assert.deepEqual(decide(p, n), { inject, reason });
  });
}
