// The chart against a real kube-apiserver with the real helm: install creates every object,
// the chart's RBAC is enough for the operator's real code (run with a kubeconfig for the
// chart's ServiceAccount) and no more, upgrade keeps users' VirtualServices, uninstall
// removes the webhooks (pods are admitted again) and keeps the CRDs and users' objects.
//
// The apiserver runs with --enable-aggregator-routing so webhook calls resolve the Service
// through its endpoints: with no operator pod (no kubelet here) a call fails at once, which
// is what a cluster whose operator is down looks like.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, AuthenticationV1Api, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
import Fastify from 'fastify';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster, ServiceAccountKubeconfig } from '../cluster/cluster.ts';
import { CertificateAuthority } from '../../operator/ca/authority.ts';
import { certificatesPlugin, type CertificateResponse } from '../../operator/ca/issuance.ts';
import { publishRootToInjectedNamespaces } from '../../operator/ca/root-publisher.ts';
import { SecretCaStore } from '../../operator/ca/secret-store.ts';
import { TokenReviewVerifier } from '../../operator/ca/token-verifier.ts';
import { newKeyAndCsr } from '../../proxy/security/workload-cert.ts';
import { WebhookCertManager } from '../../webhook/cert-manager.ts';
import { createLogger } from '../../common/log.ts';
import { dashboard, exprs, metricNames } from './dashboards.ts';
import { CHART, FIXTURES, parseDocs, template } from './helm.ts';
import type { K8sObject } from './helm.ts';
import { DENIED, NEEDED, describePermission, resourceAttributes, type Permission } from './operator-permissions.ts';
import { startMeshletProcess, type MeshletProcess } from './processes.ts';

const NS = 'meshlet-system';
const SA = 'system:serviceaccount:meshlet-system:meshlet-operator';
const MESH_NS = 'shop';
const PLAIN_NS = 'plain';

let cluster: Cluster;
let sa: ServiceAccountKubeconfig;
const processes: MeshletProcess[] = [];
let publishedBundle = '';

before(async () => {
  cluster = await startCluster({ apiserverArgs: ['--enable-aggregator-routing=true'] });
}, { timeout: 45 * 60_000 });

after(async () => {
  for (const p of processes) await p.stop();
  await cluster?.stop();
});

/** Retries until fn stops throwing (RBAC and webhook configuration reach apiserver caches asynchronously). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}

const code = (err: unknown): number | undefined => (err as { code?: number }).code;

function pod(name: string): object {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] } };
}

function virtualService(name: string): object {
  return {
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: MESH_NS },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] },
  };
}

/** What `kubectl auth can-i --as=<operator SA>` answers, asked as a SubjectAccessReview. */
async function allowed(p: Permission): Promise<boolean> {
  const review = await cluster.kubeConfig().makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
      spec: { user: SA, groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'], resourceAttributes: resourceAttributes(p) },
    },
  });
  return review.status?.allowed === true;
}

/** spec.mtls.mode of the chart's mesh-wide PeerAuthentication. */
async function meshMtlsMode(): Promise<string | undefined> {
  const pa = (await cluster.kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'security.istio.io', version: 'v1', namespace: NS, plural: 'peerauthentications', name: 'default' })) as { spec?: { mtls?: { mode?: string } } };
  return pa.spec?.mtls?.mode;
}

async function bundles(): Promise<string[]> {
  const cfg = await cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: 'meshlet-sidecar-injector' });
  return (cfg.webhooks ?? []).map((w) => w.clientConfig.caBundle ?? '');
}

describe('helm install / operator RBAC / upgrade / uninstall', { concurrency: false }, () => {
  test('the apiserver accepts every object of a production-shaped install (helm install --dry-run=server)', async () => {
    const r = await cluster.helm(['install', 'meshlet', CHART, '-n', NS, '--create-namespace', '--dry-run=server', '--values', join(FIXTURES, 'values-custom.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /STATUS: pending-install/);
  });

  test('helm install creates every object the chart renders', async () => {
    const r = await cluster.helm(['install', 'meshlet', CHART, '-n', NS, '--create-namespace']);
    assert.equal(r.code, 0, r.stderr);
    // NOTES.txt: the next steps a user sees.
    assert.match(r.stdout, /kubectl label namespace <namespace> sidecar\.inject=true/);
    assert.match(r.stdout, /Mesh-wide mTLS mode: PERMISSIVE\./);
    const rendered = await template();
    assert.equal(rendered.code, 0, rendered.stderr);
    const docs = parseDocs(rendered.stdout);
    assert.equal(docs.length, 18);
    const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig());
    for (const d of docs) {
      const live = await api.read({ apiVersion: d.apiVersion, kind: d.kind, metadata: { name: d.metadata.name, ...(d.metadata.namespace === undefined ? {} : { namespace: d.metadata.namespace }) } });
      // Hooks (the mesh-wide PeerAuthentication) are created by Helm but not owned by the release.
      const hook = d.metadata.annotations?.['helm.sh/hook'] !== undefined;
      assert.equal(live.metadata?.annotations?.[hook ? 'helm.sh/hook' : 'meta.helm.sh/release-name'], hook ? 'post-install,post-upgrade' : 'meshlet', `${d.kind}/${d.metadata.name}`);
    }
    assert.equal(await meshMtlsMode(), 'PERMISSIVE');
    await cluster.waitForCRDs(docs.filter((d) => d.kind === 'CustomResourceDefinition').map((d) => d.metadata.name));
    const status = await cluster.helm(['status', 'meshlet', '-n', NS, '-o', 'json']);
    assert.equal((JSON.parse(status.stdout) as { info: { status: string } }).info.status, 'deployed');
    // Helm keeps each release (CRDs included) in one Secret, and Secrets stop at 1 MiB.
    const release = await cluster.kubeConfig().makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'sh.helm.release.v1.meshlet.v1', namespace: NS });
    const bytes = Object.values(release.data ?? {}).reduce((n, v) => n + v.length, 0);
    assert.ok(bytes < 512 * 1024, `release Secret is ${bytes} bytes; the 1 MiB Secret limit is near`);
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: MESH_NS, labels: { 'sidecar.inject': 'true' } } } });
    await core.createNamespace({ body: { metadata: { name: PLAIN_NS } } });
    await core.createNamespacedServiceAccount({ namespace: MESH_NS, body: { metadata: { name: 'web' } } });
  });

  test('the operator ServiceAccount may do every call the operator makes', async () => {
    const missing: string[] = [];
    for (const p of NEEDED) if (!(await allowed(p))) missing.push(describePermission(p));
    assert.deepEqual(missing, [], `the chart's RBAC lacks:\n${missing.join('\n')}`);
  });

  test('…and nothing beyond it (sample of denied calls)', async () => {
    const granted: string[] = [];
    for (const p of DENIED) if (await allowed(p)) granted.push(describePermission(p));
    assert.deepEqual(granted, [], `the chart's RBAC grants too much:\n${granted.join('\n')}`);
  });

  test('meshlet webhook with the chart ServiceAccount kubeconfig patches the caBundle', async () => {
    sa = await cluster.serviceAccountKubeconfig(NS, 'meshlet-operator', { expirationSeconds: 3600 });
    assert.deepEqual(await bundles(), ['', '', ''], 'the chart ships no caBundle');
    const hook = startMeshletProcess(['webhook', '--kubeconfig', sa.path, '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', '--log-level', 'info']);
    processes.push(hook);
    const got = await eventually(async () => {
      assert.equal(hook.exitCode(), null, `meshlet webhook exited:\n${hook.output()}`);
      const b = await bundles();
      assert.ok(b.every((x) => x !== ''), 'caBundle not yet written');
      return b;
    }, 30_000);
    assert.equal(new Set(got).size, 1, 'every entry gets the same bundle');
    publishedBundle = got[0] as string;
    const cert = new X509Certificate(Buffer.from(publishedBundle, 'base64').toString('utf8'));
    assert.ok(cert.ca, 'the bundle is a CA certificate');
    assert.doesNotMatch(hook.output(), /forbidden/i, hook.output());
    await hook.stop();
  });

  test('the webhook certificate manager with the chart ServiceAccount fills the validator caBundle', async () => {
    const admission = cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    const before = await admission.readValidatingWebhookConfiguration({ name: 'meshlet-validator' });
    assert.deepEqual(before.webhooks?.map((w) => w.clientConfig.caBundle ?? ''), ['']);
    const manager = new WebhookCertManager({ kubeConfig: sa.kubeConfig(), log: createLogger({ component: 'chart-test', level: 'silent' }), mutating: [], validating: ['meshlet-validator'] });
    try {
      await manager.start();
      // publish() throws (MESHLET_WEBHOOK_CERT, HTTP 403) when the RBAC lacks get/update.
      await manager.publish();
    } finally {
      manager.stop();
    }
    const after = await admission.readValidatingWebhookConfiguration({ name: 'meshlet-validator' });
    const pem = Buffer.from(after.webhooks?.[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8');
    assert.ok(new X509Certificate(pem).ca);
  });

  test('the CA with the chart ServiceAccount: creates meshlet-ca, publishes meshlet-ca-root, issues a certificate after a TokenReview', async () => {
    const kc = sa.kubeConfig();
    const ca = await CertificateAuthority.loadOrCreate(new SecretCaStore(kc.makeApiClient(CoreV1Api)), { trustDomain: 'cluster.local' });
    const admin = cluster.kubeConfig().makeApiClient(CoreV1Api);
    const secret = await admin.readNamespacedSecret({ name: 'meshlet-ca', namespace: NS });
    assert.ok(secret.data?.['ca-cert.pem'] !== undefined, 'Secret meshlet-ca holds the root');
    // Second start: loads what the first stored.
    const again = await CertificateAuthority.loadOrCreate(new SecretCaStore(kc.makeApiClient(CoreV1Api)), { trustDomain: 'cluster.local' });
    assert.equal(again.rootCertPem, ca.rootCertPem);

    assert.deepEqual(await publishRootToInjectedNamespaces(kc.makeApiClient(CoreV1Api), ca.rootCertPem), [MESH_NS]);
    const cm = await admin.readNamespacedConfigMap({ name: 'meshlet-ca-root', namespace: MESH_NS });
    assert.equal(cm.data?.['root-cert.pem'], ca.rootCertPem);
    // A changed ConfigMap is put right (the update path).
    await admin.replaceNamespacedConfigMap({ name: 'meshlet-ca-root', namespace: MESH_NS, body: { ...cm, data: { 'root-cert.pem': 'tampered' } } });
    assert.deepEqual(await publishRootToInjectedNamespaces(kc.makeApiClient(CoreV1Api), ca.rootCertPem), [MESH_NS]);
    assert.equal((await admin.readNamespacedConfigMap({ name: 'meshlet-ca-root', namespace: MESH_NS })).data?.['root-cert.pem'], ca.rootCertPem);

    const app = Fastify();
    try {
      await app.register(certificatesPlugin, { ca: () => ca, verifier: new TokenReviewVerifier(kc.makeApiClient(AuthenticationV1Api)), trustDomain: 'cluster.local' });
      const token = await cluster.requestToken(MESH_NS, 'web', { audiences: ['meshlet'], expirationSeconds: 600 });
      const { csrPem } = await newKeyAndCsr();
      const res = await app.inject({ method: 'POST', url: '/v1/certificates', headers: { authorization: `Bearer ${token}` }, payload: { csr: csrPem } });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<CertificateResponse>();
      assert.equal(body.identity, `spiffe://cluster.local/ns/${MESH_NS}/sa/web`);
      assert.ok(new X509Certificate(body.certChain).checkIssued(new X509Certificate(ca.rootCertPem)));
    } finally {
      await app.close();
    }
  });

  test('meshlet operator with the chart ServiceAccount reconciles objects and writes status', async () => {
    const objects = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    await objects.createNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: MESH_NS, plural: 'virtualservices', body: virtualService('status-check') });
    const op = startMeshletProcess(['operator', '--kubeconfig', sa.path, '--address', '127.0.0.1', '--push-port', '0', '--monitor-port', '0', '--identity', 'chart-test']);
    processes.push(op);
    try {
      const status = await eventually(async () => {
        assert.equal(op.exitCode(), null, `meshlet operator exited:\n${op.output()}`);
        const vs = (await objects.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: MESH_NS, plural: 'virtualservices', name: 'status-check' })) as { status?: { conditions?: Array<{ type: string; status: string }> } };
        assert.ok((vs.status?.conditions ?? []).length > 0, 'no status conditions yet');
        return vs.status;
      }, 60_000);
      assert.ok(status?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True'), JSON.stringify(status));
      assert.equal((status as { observedGeneration?: number }).observedGeneration, 1, JSON.stringify(status));
      // The endpoint the chart's startup/readiness/liveness probes call.
      const monitorPort = await eventually(async () => {
        const port = /"monitorPort":(\d+)/.exec(op.output())?.[1];
        assert.ok(port !== undefined, `no "operator ready" line yet:\n${op.output()}`);
        return port;
      });
      // 503 until every watched kind was listed once: with the chart's RBAC that must happen.
      await eventually(async () => assert.equal((await fetch(`http://127.0.0.1:${monitorPort}/ready`)).status, 200));
      // Every operator metric the control-plane dashboard queries is exported.
      const metrics = await (await fetch(`http://127.0.0.1:${monitorPort}/metrics`)).text();
      const wanted = metricNames(exprs(dashboard('control-plane.json')), /^(pilot_|meshlet_operator_)/);
      assert.deepEqual(wanted.filter((m) => !metrics.includes(`# TYPE ${m} `)), [], 'dashboard metrics missing from /metrics');
      assert.doesNotMatch(op.output(), /forbidden/i, op.output());
    } finally {
      await op.stop();
    }
  });

  test('with the operator away, a pod in a mesh namespace is refused (Fail) and one elsewhere admitted (Ignore)', async () => {
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    await eventually(async () => {
      const err = await core.createNamespacedPod({ namespace: MESH_NS, body: pod('refused') }).then(() => undefined, (e: unknown) => e);
      assert.ok(err !== undefined, 'pod was admitted: webhook configuration not active yet');
      assert.match(String((err as { body?: unknown }).body ?? err), /inject\.sidecar\.meshlet\.io/);
    });
    await core.createNamespacedPod({ namespace: PLAIN_NS, body: pod('admitted') });
  });

  test('helm upgrade with changed values keeps VirtualServices and the operator-written caBundle', async () => {
    const objects = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    const created = (await objects.createNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: MESH_NS, plural: 'virtualservices', body: virtualService('reviews') })) as K8sObject & { metadata: { uid: string } };
    const r = await cluster.helm(['upgrade', 'meshlet', CHART, '-n', NS, '--set', 'operator.replicas=2', '--set', 'sidecar.proxy.logLevel=debug', '--set', 'mtls.mode=STRICT',
      // With the operator away a Fail validator refuses mesh objects; the chart's own hook must still go through.
      '--set', 'validation.failurePolicy=Fail']);
    assert.equal(r.code, 0, r.stderr);
    const after = (await objects.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: MESH_NS, plural: 'virtualservices', name: 'reviews' })) as K8sObject & { metadata: { uid: string }; spec: unknown };
    assert.equal(after.metadata.uid, created.metadata.uid);
    assert.deepEqual(after.spec, (virtualService('reviews') as { spec: unknown }).spec);
    assert.deepEqual(await bundles(), [publishedBundle, publishedBundle, publishedBundle]);
    const admin = cluster.kubeConfig();
    const cm = await admin.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'meshlet-sidecar-injector', namespace: NS });
    assert.match(cm.data?.values ?? '', /logLevel: debug/);
    assert.equal(await meshMtlsMode(), 'STRICT');
    await eventually(async () => {
      const refused = await objects.createNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: MESH_NS, plural: 'virtualservices', body: virtualService('unvalidated') }).then(() => undefined, (e: unknown) => e);
      assert.match(String((refused as { body?: unknown } | undefined)?.body ?? refused), /validation\.meshlet\.io/, 'a user object is refused while the Fail validator is unreachable');
    });
    const dep = (await KubernetesObjectApi.makeApiClient(admin).read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'meshlet-operator', namespace: NS } })) as { spec?: { replicas?: number; template?: { spec?: { affinity?: unknown } } } };
    assert.equal(dep.spec?.replicas, 2);
    assert.ok(dep.spec?.template?.spec?.affinity !== undefined, 'anti-affinity with 2 replicas');
  });

  test('helm uninstall removes the webhooks (pods admitted again) and keeps CRDs and VirtualServices', async () => {
    const r = await cluster.helm(['uninstall', 'meshlet', '-n', NS]);
    assert.equal(r.code, 0, r.stderr);
    const admission = cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    assert.equal(await admission.readMutatingWebhookConfiguration({ name: 'meshlet-sidecar-injector' }).then(() => 200, code), 404);
    assert.equal(await admission.readValidatingWebhookConfiguration({ name: 'meshlet-validator' }).then(() => 200, code), 404);
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    await eventually(() => core.createNamespacedPod({ namespace: MESH_NS, body: pod('after-uninstall') }));
    const crds = await cluster.kubectl(['get', 'crd', '-o', 'name']);
    for (const name of ['virtualservices.networking.istio.io', 'destinationrules.networking.istio.io', 'peerauthentications.security.istio.io', 'authorizationpolicies.security.istio.io', 'requestauthentications.security.istio.io']) {
      assert.match(crds.stdout, new RegExp(`customresourcedefinition.apiextensions.k8s.io/${name.replace(/\./g, '\\.')}`));
    }
    const objects = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    await objects.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: MESH_NS, plural: 'virtualservices', name: 'reviews' });
    // The CA stays, so a reinstall keeps the root running sidecars trust.
    await core.readNamespacedSecret({ name: 'meshlet-ca', namespace: NS });
    await core.readNamespacedConfigMap({ name: 'meshlet-ca-root', namespace: MESH_NS });
    const dep = await cluster.kubectl(['get', 'deployment', 'meshlet-operator', '-n', NS]);
    assert.notEqual(dep.code, 0, 'the Deployment is gone');
    const roles = await cluster.kubectl(['get', 'clusterrole', 'meshlet-operator']);
    assert.notEqual(roles.code, 0, 'the ClusterRole is gone');
  });

  test('helm install again adopts the kept CRDs; users\' objects survive', async () => {
    const r = await cluster.helm(['install', 'meshlet', CHART, '-n', NS]);
    assert.equal(r.code, 0, r.stderr);
    // The hook replaced the STRICT PeerAuthentication left by the uninstalled release.
    assert.equal(await meshMtlsMode(), 'PERMISSIVE');
    const objects = cluster.kubeConfig().makeApiClient(CustomObjectsApi);
    await objects.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1', namespace: MESH_NS, plural: 'virtualservices', name: 'reviews' });
    const u = await cluster.helm(['uninstall', 'meshlet', '-n', NS]);
    assert.equal(u.code, 0, u.stderr);
  });
});
