/** YAML for the real-apiserver operator tests, and small waits that poll what a user sees. */
import type { Cluster } from '../../cluster/cluster.ts';

export const BASE = `
apiVersion: v1
kind: Namespace
metadata: {name: meshlet-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: hidden}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: default}
spec:
  selector: {app: productpage}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Pod
metadata: {name: productpage-1, namespace: default, labels: {app: productpage}}
spec: {containers: [{name: app, image: example.invalid/productpage:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-a, namespace: default, labels: {app: reviews, version: v1}}
spec: {containers: [{name: app, image: example.invalid/reviews:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2-a, namespace: default, labels: {app: reviews, version: v2}}
spec: {containers: [{name: app, image: example.invalid/reviews:2}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: reviews-1
  namespace: default
  labels: {kubernetes.io/service-name: reviews}
addressType: IPv4
ports: [{name: http, port: 9080, protocol: TCP}]
endpoints:
- addresses: [10.20.0.1]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: reviews-v1-a, namespace: default}
- addresses: [10.20.0.2]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: reviews-v2-a, namespace: default}
`;

export const DR = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

export function vs(w1: number, w2: number, extra = ''): string {
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - name: split${extra}
    route:
    - {destination: {host: reviews, subset: v1}, weight: ${w1}}
    - {destination: {host: reviews, subset: v2}, weight: ${w2}}
`;
}

export async function apply(cluster: Cluster, yaml: string): Promise<void> {
  const r = await cluster.kubectl(['apply', '-f', '-'], { input: yaml });
  if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
}

export async function getJson(cluster: Cluster, args: string[]): Promise<Record<string, unknown>> {
  const r = await cluster.kubectl(['get', ...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl get failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Polls `fn` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${(last as Error).message}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
