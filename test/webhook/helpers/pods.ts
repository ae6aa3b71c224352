/** Sample pods for the render, golden, server and apiserver tests. */
import type { Pod } from '../../../webhook/pod-types.ts';

export function webPod(name = 'web'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: 'web', version: 'v1' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/app-metrics' },
    },
    spec: {
      serviceAccountName: 'web',
      containers: [{
        name: 'web',
        image: 'registry.example/web:1.0',
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9102, protocol: 'TCP' }],
        livenessProbe: { httpGet: { path: '/livez', port: 'http' }, periodSeconds: 10 },
        readinessProbe: { httpGet: { path: '/readyz', port: 8080, httpHeaders: [{ name: 'X-Probe', value: 'kubelet' }] }, timeoutSeconds: 2 },
      }],
    },
  };
}

export function jobPod(name = 'batch'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { 'job-name': 'batch', 'batch.kubernetes.io/job-name': 'batch' } },
    spec: {
      restartPolicy: 'Never',
      initContainers: [{ name: 'migrate', image: 'registry.example/migrate:1', command: ['migrate', 'up'] }],
      containers: [{ name: 'worker', image: 'registry.example/worker:1', command: ['work', '--once'] }],
    },
  };
}

export function threeContainerPod(name = 'trio'): Pod {
  const c = (n: string, port: number): NonNullable<Pod['spec']>['containers'][number] => ({
    name: n,
    image: `registry.example/${n}:1`,
    ports: [{ name: 'http', containerPort: port }],
    readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
    livenessProbe: { httpGet: { path: '/live', port } },
    env: [{ name: 'MODE', value: n }],
    resources: { requests: { cpu: '50m', memory: '64Mi' } },
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'trio' }, annotations: { team: 'payments' } },
    spec: { containers: [c('api', 8080), c('worker', 8081), c('cache', 6380)], volumes: [{ name: 'scratch', emptyDir: {} }] },
  };
}

export function overridePod(name = 'tuned'): Pod {
  const p = webPod(name);
  p.metadata!.annotations = {
    'sidecar.istio.io/proxyCPU': '250m',
    'sidecar.istio.io/proxyMemoryLimit': '512Mi',
    'sidecar.meshlet.io/proxyMemory': '200Mi',
    'traffic.sidecar.istio.io/excludeOutboundPorts': '5432,6379',
    'traffic.sidecar.istio.io/excludeInboundPorts': '9102',
    'sidecar.meshlet.io/excludeOutboundIPRanges': '10.96.0.1/32',
    'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.0.0.0/8,172.16.0.0/12',
    'sidecar.istio.io/logLevel': 'debug',
    'prometheus.io/scrape': 'false',
  };
  return p;
}
