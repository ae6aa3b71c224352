// Sidecar injection against a real kube-apiserver: `meshlet webhook` runs as a process, writes
// its CA into the MutatingWebhookConfiguration, and the apiserver calls it for every pod CREATE.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:tls';
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { webhookConfiguration, WEBHOOK_NAMES } from '../../webhook/configuration.ts';
import { validatingWebhookConfiguration, VALIDATING_CONFIGURATION } from '../../webhook/validate-config.ts';
import type { Container, Pod } from '../../webhook/pod-types.ts';
import { freePort, WebhookProcess } from './helpers/webhook-process.ts';
import { jobPod, webPod } from './helpers/pods.ts';

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'webhook');

let cluster: Cluster;
let core: CoreV1Api;
let port = 0;
let metricsPort = 0;
const webhook = new WebhookProcess();

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels } } });
}

/** `kubectl apply` of a pod; returns kubectl's result. */
async function apply(pod: Pod, ns: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const body = { ...pod, metadata: { ...pod.metadata, namespace: ns } };
  return cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(body) });
}

async function stored(name: string, ns: string): Promise<Pod> {
  // Plain JSON, not client-node's model classes, so it compares with golden files.
  return JSON.parse(JSON.stringify(await core.readNamespacedPod({ name, namespace: ns }))) as Pod;
}

const status = (p: Pod): Record<string, string> => JSON.parse(p.metadata?.annotations?.['sidecar.meshlet.io/status'] ?? '{}') as Record<string, string>;
const names = (l: Container[] | undefined): string[] => (l ?? []).map((c) => c.name);

before(async () => {
  cluster = await startCluster({ log: () => {} });
  core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  port = await freePort();
  metricsPort = await freePort();
  // The chart's shape, pointed at the local process; no caBundle: the webhook writes it.
  await cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api).createMutatingWebhookConfiguration({ body: webhookConfiguration({ target: { url: `https://127.0.0.1:${port}` } }) });
  // The install namespace holds the Secret the replicas share the serving certificate through.
  await namespace('meshlet-system');
  // The same process serves /validate: the Istio CRDs and the validating configuration (no
  // caBundle either: the webhook keeps it current there too).
  await cluster.installCRDs([fileURLToPath(new URL('../../crds/generated/all.yaml', import.meta.url))]);
  await cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api).createValidatingWebhookConfiguration({ body: validatingWebhookConfiguration({ target: { url: `https://127.0.0.1:${port}` } }) });
  await webhook.start(cluster.kubeconfigPath, port, metricsPort, ['--validating-config', VALIDATING_CONFIGURATION]);
  await namespace('mesh', { 'sidecar.inject': 'true' });
  await namespace('istio-mesh', { 'istio-injection': 'enabled' });
  await namespace('plain');
  // The apiserver loads webhook configurations asynchronously: wait until a mesh pod is injected.
  await eventually(async () => {
    const name = `warmup-${Date.now()}`;
    const r = await apply(webPod(name), 'mesh');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(status(await stored(name, 'mesh')).result, 'injected');
  }, 30_000);
}, { timeout: 45 * 60_000 });

after(async () => {
  await webhook.stop();
  await cluster?.stop();
});

describe('with the webhook running', () => {
  test('the serving certificate was issued and its CA written into caBundle of every entry', async () => {
    const cfg = await cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: 'meshlet-sidecar-injector' });
    assert.deepEqual(cfg.webhooks?.map((w) => w.name), [WEBHOOK_NAMES.mesh, WEBHOOK_NAMES.istioMesh, WEBHOOK_NAMES.other]);
    const bundles = new Set(cfg.webhooks?.map((w) => w.clientConfig.caBundle));
    assert.equal(bundles.size, 1);
    const ca = new X509Certificate(Buffer.from([...bundles][0]!, 'base64').toString());
    const served = await new Promise<X509Certificate>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(s.getPeerX509Certificate()!);
        s.end();
      });
      s.on('error', reject);
    });
    assert.ok(served.checkIssued(ca) && served.verify(ca.publicKey));
    assert.equal(served.checkIP('127.0.0.1'), '127.0.0.1');
  });

  test('a pod in a labelled namespace is stored with init container, native sidecar, volumes, env, annotations', async () => {
    const r = await apply(webPod(), 'mesh');
    assert.equal(r.code, 0, r.stderr);
    const pod = await stored('web', 'mesh');
    assert.deepEqual(names(pod.spec?.initContainers), ['meshlet-init', 'meshlet-proxy']);
    const proxy = pod.spec!.initContainers![1]!;
    assert.equal(proxy.restartPolicy, 'Always');
    assert.equal((proxy.startupProbe as { httpGet: { port: number } }).httpGet.port, 15021);
    const env = (proxy.env as { name: string }[]).map((e) => e.name);
    for (const e of ['POD_NAME', 'POD_NAMESPACE', 'SERVICE_ACCOUNT', 'POD_IP', 'APP_PROBES']) assert.ok(env.includes(e), e);
    assert.deepEqual(pod.spec?.volumes?.map((v) => v.name).filter((n) => String(n).startsWith('meshlet-')), ['meshlet-token', 'meshlet-podinfo', 'meshlet-ca-root', 'meshlet-data']);
    assert.deepEqual(status(pod), { ...status(pod), result: 'injected', reason: 'namespace-label', mode: 'native' });
    // Matches the golden rendering (the apiserver only adds defaults).
    const golden = JSON.parse(readFileSync(join(GOLDEN, 'web-native.json'), 'utf8')) as Pod;
    // kubectl adds last-applied-configuration; the apiserver defaults probe timeouts before admission.
    const { 'kubectl.kubernetes.io/last-applied-configuration': _applied, 'sidecar.meshlet.io/app-probes': storedProbes, ...storedRest } = pod.metadata?.annotations ?? {};
    const { 'sidecar.meshlet.io/app-probes': goldenProbes, ...goldenRest } = golden.metadata?.annotations ?? {};
    assert.deepEqual(storedRest, goldenRest);
    assert.deepEqual(Object.keys(JSON.parse(storedProbes!) as object), Object.keys(JSON.parse(goldenProbes!) as object));
    assert.deepEqual(pod.metadata?.labels, golden.metadata?.labels);
    assert.deepEqual(pod.spec?.initContainers?.map((c) => c.args), golden.spec?.initContainers?.map((c) => c.args));
    assert.deepEqual(pod.spec?.containers[0]?.livenessProbe?.httpGet, golden.spec?.containers[0]?.livenessProbe?.httpGet);
  });

  test('Istio\'s istio-injection=enabled label injects too', async () => {
    const r = await apply(webPod(), 'istio-mesh');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(status(await stored('web', 'istio-mesh')).reason, 'istio-injection-label');
  });

  test('a pod in an unlabelled namespace is unchanged, with the reason recorded', async () => {
    const r = await apply(webPod(), 'plain');
    assert.equal(r.code, 0, r.stderr);
    const pod = await stored('web', 'plain');
    assert.deepEqual(names(pod.spec?.initContainers), []);
    assert.deepEqual(names(pod.spec?.containers), ['web']);
    assert.deepEqual(status(pod), { result: 'skipped', reason: 'namespace-not-enabled' });
  });

  test('an opt-out annotation leaves the pod unchanged, with the reason', async () => {
    const p = webPod('opted-out');
    p.metadata!.annotations = { 'sidecar.istio.io/inject': 'false' };
    const r = await apply(p, 'mesh');
    assert.equal(r.code, 0, r.stderr);
    const pod = await stored('opted-out', 'mesh');
    assert.deepEqual(names(pod.spec?.initContainers), []);
    assert.deepEqual(names(pod.spec?.containers), ['web']);
    assert.deepEqual(status(pod), { result: 'skipped', reason: 'pod-opt-out' });
  });

  test('a Job\'s pod (restartPolicy Never) gets the native sidecar, so the Job can complete', async () => {
    const r = await apply(jobPod(), 'mesh');
    assert.equal(r.code, 0, r.stderr);
    const pod = await stored('batch', 'mesh');
    assert.deepEqual(names(pod.spec?.initContainers), ['meshlet-init', 'meshlet-proxy', 'migrate']);
    assert.equal(pod.spec!.initContainers![1]!.restartPolicy, 'Always');
    assert.deepEqual(names(pod.spec?.containers), ['worker']);
  });

  test('a bad override annotation is refused with the code and annotation in kubectl\'s message', async () => {
    const p = webPod('bad-override');
    p.metadata!.annotations = { 'traffic.sidecar.istio.io/excludeOutboundPorts': 'postgres' };
    const r = await apply(p, 'mesh');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /MESHLET_WEBHOOK_BAD_OVERRIDE/);
    assert.match(r.stderr, /excludeOutboundPorts: "postgres"/);
  });

  test('the template ConfigMap is watched: new values apply to the next pods', async () => {
    await core.createNamespacedConfigMap({ namespace: 'meshlet-system', body: { metadata: { name: 'meshlet-sidecar-injector' }, data: { values: 'image: registry.example/meshlet:canary\nproxy:\n  logLevel: debug\n  concurrency: 4\n' } } });
    let n = 0;
    const pod = await eventually(async () => {
      const name = `tmpl-${n++}`;
      const r = await apply(webPod(name), 'mesh');
      assert.equal(r.code, 0, r.stderr);
      const p = await stored(name, 'mesh');
      assert.equal(p.spec?.initContainers?.[1]?.image, 'registry.example/meshlet:canary');
      return p;
    });
    const env = pod.spec!.initContainers![1]!.env as { name: string; value?: string }[];
    assert.equal(env.find((e) => e.name === 'PROXY_CONCURRENCY')?.value, '4');
    assert.equal(env.find((e) => e.name === 'MESHLET_LOG_LEVEL')?.value, 'debug');
    await core.deleteNamespacedConfigMap({ namespace: 'meshlet-system', name: 'meshlet-sidecar-injector' });
  });

  test('the same process validates Istio objects: an invalid VirtualService is refused at kubectl apply with path and code', async () => {
    const vs = (weight: number): string => JSON.stringify({
      apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `reviews-${weight}`, namespace: 'mesh' },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight }, { destination: { host: 'reviews', subset: 'v2' }, weight: 0 }] }] },
    });
    // The apiserver picks up the validating configuration asynchronously: wait for the first refusal.
    const refused = await eventually(async () => {
      const r = await cluster.kubectl(['apply', '-f', '-'], { input: vs(0) });
      assert.notEqual(r.code, 0, 'all-zero weights must be refused');
      return r;
    }, 30_000);
    assert.match(refused.stderr, /spec\.http\[0\]\.route/);
    assert.match(refused.stderr, /\[MESHLET_CRD_[A-Z_]+\]/);
    const ok = await cluster.kubectl(['apply', '-f', '-'], { input: vs(100) });
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('outcomes are counted on /metrics: each admission adds one to its result and reason', async () => {
    // Counted as differences around this test's own pods, so the other tests (their order,
    // whether they run at all) cannot make this pass or fail.
    const SERIES = {
      injected: 'result="injected",reason="namespace-label"',
      optOut: 'result="skipped",reason="pod-opt-out"',
      notEnabled: 'result="skipped",reason="namespace-not-enabled"',
      badOverride: 'result="denied",reason="bad-override"',
    };
    const read = async (): Promise<Record<string, number>> => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Object.fromEntries(Object.entries(SERIES).map(([k, labels]) => {
        const line = text.split('\n').find((l) => l.startsWith(`meshlet_sidecar_injection_total{${labels}} `));
        return [k, line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))];
      }));
    };
    const before = await read();
    assert.equal((await apply(webPod('count-injected'), 'mesh')).code, 0);
    const optOut = webPod('count-opted-out');
    optOut.metadata!.annotations = { 'sidecar.istio.io/inject': 'false' };
    assert.equal((await apply(optOut, 'mesh')).code, 0);
    assert.equal((await apply(webPod('count-plain'), 'plain')).code, 0);
    const bad = webPod('count-bad-override');
    bad.metadata!.annotations = { 'traffic.sidecar.istio.io/excludeOutboundPorts': 'postgres' };
    assert.notEqual((await apply(bad, 'mesh')).code, 0);
    const after = await read();
    assert.deepEqual(Object.fromEntries(Object.keys(SERIES).map((k) => [k, after[k]! - before[k]!])), { injected: 1, optOut: 1, notEnabled: 1, badOverride: 1 });
  });
});

describe('re-running on its own output, host network, older clusters', () => {
  test('a copy of an injected pod is stored as is: no second sidecar', async () => {
    const injected = await stored('web', 'mesh');
    const copy: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-copy', labels: injected.metadata?.labels, annotations: injected.metadata?.annotations }, spec: injected.spec };
    delete copy.metadata!.annotations!['kubectl.kubernetes.io/last-applied-configuration'];
    const r = await apply(copy, 'mesh');
    assert.equal(r.code, 0, r.stderr);
    const pod = await stored('web-copy', 'mesh');
    assert.deepEqual(names(pod.spec?.initContainers), ['meshlet-init', 'meshlet-proxy']);
    assert.deepEqual(pod.spec, injected.spec);
    assert.equal(status(pod).result, 'injected');
  });

  test('a hostNetwork pod in a mesh namespace is skipped with the reason', async () => {
    const p = webPod('host');
    p.spec!.hostNetwork = true;
    const r = await apply(p, 'mesh');
    assert.equal(r.code, 0, r.stderr);
    const pod = await stored('host', 'mesh');
    assert.deepEqual(names(pod.spec?.containers), ['web']);
    assert.deepEqual(status(pod), { result: 'skipped', reason: 'host-network' });
  });

  test('without native sidecars the proxy is the first container with a start hold', async () => {
    const admission = cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    const bundleBefore = (await admission.readMutatingWebhookConfiguration({ name: 'meshlet-sidecar-injector' })).webhooks?.[0]?.clientConfig.caBundle;
    await webhook.stop();
    await webhook.start(cluster.kubeconfigPath, port, metricsPort, ['--native-sidecars', 'off']);
    // A restarted (or second) replica adopts the certificate shared through the Secret: the bundle stays.
    const secret = await core.readNamespacedSecret({ namespace: 'meshlet-system', name: 'meshlet-webhook-tls' });
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.equal((await admission.readMutatingWebhookConfiguration({ name: 'meshlet-sidecar-injector' })).webhooks?.[0]?.clientConfig.caBundle, bundleBefore);
    const pod = await eventually(async () => {
      const r = await apply(webPod(`legacy-${Date.now()}`), 'mesh');
      assert.equal(r.code, 0, r.stderr);
      const name = /pod\/(\S+) created/.exec(r.stdout)?.[1] ?? '';
      return stored(name, 'mesh');
    });
    assert.deepEqual(names(pod.spec?.containers), ['meshlet-proxy', 'web']);
    assert.deepEqual(names(pod.spec?.initContainers), ['meshlet-init']);
    assert.ok((pod.spec!.containers[0]!.lifecycle as { postStart?: unknown }).postStart);
    assert.equal(status(pod).mode, 'container');
  });
});

describe('with the webhook stopped', () => {
  before(async () => {
    await webhook.stop();
  });

  test('a pod in a mesh namespace is refused with a message naming the injector', async () => {
    const r = await apply(webPod('while-down'), 'mesh');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`failed calling webhook "${WEBHOOK_NAMES.mesh.replace(/\./g, '\\.')}"`));
    await assert.rejects(stored('while-down', 'mesh'), (e: { code?: number }) => e.code === 404);
  });

  test('a pod in any other namespace is admitted unchanged', async () => {
    const r = await apply(webPod('while-down'), 'plain');
    assert.equal(r.code, 0, r.stderr);
    const pod = await stored('while-down', 'plain');
    assert.deepEqual(names(pod.spec?.containers), ['web']);
    assert.equal(pod.metadata?.annotations?.['sidecar.meshlet.io/status'], undefined);
  });
});
