/**
 * `meshlet analyze --kubeconfig` against a real kube-apiserver (test/cluster): objects
 * applied with kubectl, problems found through the API, WorkloadEntry's missing CRD
 * tolerated (404 skipped).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { BIN } from './helpers/local-process.ts';

let cluster: Cluster | undefined;
before(async () => {
  cluster = await startCluster({ crds: ['crds/generated'], log: () => {} });
});
after(async () => {
  await cluster?.stop();
});

const OBJECTS = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {sidecar.inject: "true"}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1, namespace: shop, labels: {app: reviews, version: v1}}
spec:
  containers: [{name: reviews, image: reviews:1}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: v2}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: typo, namespace: shop}
spec:
  selector: {matchLabels: {app: reveiws}}
  rules: [{}]
`;

test('analyze reads the cluster through the kubeconfig and reports cross-object problems', async () => {
  const c = cluster!;
  const applied = await c.kubectl(['apply', '-f', '-'], { input: OBJECTS });
  assert.equal(applied.code, 0, applied.stderr);
  // No kubelet here: mark the pod Running the way the kubelet would (status subresource).
  const running = await c.kubectl(['-n', 'shop', 'patch', 'pod', 'reviews-v1', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","podIP":"10.1.0.5"}}']);
  assert.equal(running.code, 0, running.stderr);
  const r = spawnSync(process.execPath, [BIN, 'analyze', '--kubeconfig', c.kubeconfigPath, '-o', 'json'], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  const found = (JSON.parse(r.stdout) as { code: string; object: { kind: string; namespace: string; name: string } }[]).map((f) => `${f.code} ${f.object.kind} ${f.object.namespace}/${f.object.name}`);
  assert.deepEqual(found.sort(), [
    'MESHLET_ANALYZE_INJECTION_MISSING Pod shop/reviews-v1',
    'MESHLET_ANALYZE_SELECTS_NOTHING AuthorizationPolicy shop/typo',
    'MESHLET_ANALYZE_UNKNOWN_SUBSET VirtualService shop/reviews',
  ]);
});
