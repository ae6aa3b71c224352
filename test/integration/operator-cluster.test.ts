// `meshlet operator` against a real kube-apiserver, as one child process with an admin
// kubeconfig: the CA (Secret meshlet-ca, ConfigMap meshlet-ca-root), certificates for real
// TokenRequest tokens and per-identity config on 15012, the injector and /validate on 15017
// (the apiserver calls it), /ui and /metrics on 15014, and CUSTOM reported in status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { webhookConfiguration } from '../../webhook/configuration.ts';
import { validatingWebhookConfiguration } from '../../webhook/validate-config.ts';
import { startOperatorProcess, type OperatorProcess } from '../operator/helpers/operator-process.ts';
import { until } from '../operator/helpers/cluster-fixtures.ts';
import { freePort } from '../webhook/helpers/webhook-process.ts';
import { webPod } from '../webhook/helpers/pods.ts';
import { call, newCsr, sample, uriSansOf } from './operator-helpers.ts';

let cluster: Cluster | undefined;
let core: CoreV1Api;
let op: OperatorProcess | undefined;
let dir = '';
let webhookPort = 0;

const c = (): Cluster => {
  assert.ok(cluster !== undefined);
  return cluster;
};
const o = (): OperatorProcess => {
  assert.ok(op !== undefined);
  return op;
};
const meshToken = (ns: string, sa: string): Promise<string> => c().requestToken(ns, sa, { audiences: ['meshlet'], expirationSeconds: 3600 });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-op-cluster-'));
  cluster = await startCluster({ log: () => {}, crds: [fileURLToPath(new URL('../../crds/generated/all.yaml', import.meta.url))] });
  core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  webhookPort = await freePort();
  const adm = cluster.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
  // The chart's shapes pointed at the local process, without caBundle: the operator writes it.
  await adm.createMutatingWebhookConfiguration({ body: webhookConfiguration({ target: { url: `https://127.0.0.1:${webhookPort}` } }) });
  await adm.createValidatingWebhookConfiguration({ body: validatingWebhookConfiguration({ target: { url: `https://127.0.0.1:${webhookPort}` } }) });
  await core.createNamespace({ body: { metadata: { name: 'meshlet-system' } } });
  await core.createNamespace({ body: { metadata: { name: 'team-a', labels: { 'sidecar.inject': 'true' } } } });
  await core.createNamespace({ body: { metadata: { name: 'team-b', labels: { 'istio-injection': 'enabled' } } } });
  for (const [namespace, name] of [['team-a', 'a'], ['team-a', 'web'], ['team-b', 'b']] as const) await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  op = await startOperatorProcess(['--kubeconfig', cluster.kubeconfigPath, '--webhook-port', String(webhookPort), '--webhook-cert-host', '127.0.0.1', '--identity', 'compose-test', '--hold', '2000'], join(dir, 'root.pem'), 60_000);
}, { timeout: 45 * 60_000 });

after(async () => {
  await op?.stop();
  await cluster?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('meshlet operator in a cluster', () => {
  test('the CA lives in Secret meshlet-ca; its root is published to injected namespaces, also one labelled later', async () => {
    const secret = await core.readNamespacedSecret({ name: 'meshlet-ca', namespace: 'meshlet-system' });
    assert.ok(secret.data?.['root-cert.pem'] !== undefined, `keys: ${Object.keys(secret.data ?? {}).join(',')}`);
    const root = Buffer.from(secret.data['root-cert.pem'], 'base64').toString();
    assert.equal(root.trim(), o().caPem.trim(), '--ca-file holds the mesh root');
    for (const ns of ['team-a', 'team-b']) {
      const cm = await until(() => core.readNamespacedConfigMap({ name: 'meshlet-ca-root', namespace: ns }), 20_000, `meshlet-ca-root in ${ns}`);
      assert.equal(cm.data?.['root-cert.pem']?.trim(), root.trim());
    }
    await core.createNamespace({ body: { metadata: { name: 'team-late' } } });
    await core.patchNamespace({ name: 'team-late', body: [{ op: 'add', path: '/metadata/labels', value: { 'sidecar.inject': 'true' } }] });
    const late = await until(() => core.readNamespacedConfigMap({ name: 'meshlet-ca-root', namespace: 'team-late' }), 20_000, 'meshlet-ca-root in a namespace labelled after start');
    assert.equal(late.data?.['root-cert.pem']?.trim(), root.trim());
  });

  test('a TokenRequest token (audience meshlet) for SA a gets a cert with exactly its SPIFFE ID; a wrong-audience token gets 401', async () => {
    const { csrPem } = await newCsr();
    const r = await call(`${o().pushUrl}/v1/certificates`, o().caPem, { method: 'POST', token: await meshToken('team-a', 'a'), body: { csr: csrPem } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(uriSansOf((JSON.parse(r.text) as { certChain: string }).certChain), ['spiffe://cluster.local/ns/team-a/sa/a']);
    const apiAudience = await c().requestToken('team-a', 'a');
    const bad = await call(`${o().pushUrl}/v1/certificates`, o().caPem, { method: 'POST', token: apiAudience, body: { csr: csrPem } });
    assert.equal(bad.status, 401, bad.text);
  });

  test('the webhook on 15017 injects a pod in a labelled namespace (caBundle written by the operator)', async () => {
    // The apiserver loads webhook configurations and the caBundle asynchronously: retry.
    const pod = await until(async () => {
      const name = `web-${Date.now()}`;
      const r = await c().kubectl(['apply', '-f', '-'], { input: JSON.stringify({ ...webPod(name), metadata: { ...webPod(name).metadata, namespace: 'team-a' } }) });
      assert.equal(r.code, 0, r.stderr);
      const p = await core.readNamespacedPod({ name, namespace: 'team-a' });
      const status = JSON.parse(p.metadata?.annotations?.['sidecar.meshlet.io/status'] ?? '{}') as { result?: string };
      return status.result === 'injected' ? p : undefined;
    }, 40_000, 'an injected pod');
    const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((x) => x.name);
    assert.ok(names.includes('meshlet-proxy'), names.join(','));
    const cfg = await c().kubeConfig().makeApiClient(AdmissionregistrationV1Api).readMutatingWebhookConfiguration({ name: 'meshlet-sidecar-injector' });
    assert.ok((cfg.webhooks ?? []).every((w) => (w.clientConfig.caBundle ?? '') !== ''), 'caBundle written');
  });

  test('a token for another namespace (or another SA) cannot read the pod\'s config: 403; its own token can', async () => {
    const reader = webPod('reader');
    // A per-pod telemetry annotation reaches the snapshot (effectiveTelemetry over the World).
    const r = await c().kubectl(['apply', '-f', '-'], { input: JSON.stringify({ ...reader, metadata: { ...reader.metadata, namespace: 'team-a', annotations: { ...reader.metadata?.annotations, 'telemetry.meshlet.io/sampling': '50' } } }) });
    assert.equal(r.code, 0, r.stderr);
    const url = `${o().pushUrl}/v1/config?proxy=reader.team-a`;
    // The operator learns the pod through its informer: until then the claim is unchecked.
    const own = await until(async () => {
      const r = await call(url, o().caPem, { token: await meshToken('team-a', 'web') });
      assert.equal(r.status, 200, r.text);
      // The operator learns the pod (and its annotations) through its informer.
      return (JSON.parse(r.text) as { telemetry: { tracing: { samplingPercent: number } } }).telemetry.tracing.samplingPercent === 50 ? r : undefined;
    }, 20_000, 'own config with the pod\'s sampling annotation');
    const snap = JSON.parse(own.text) as { proxy: { serviceAccount: string }; telemetry: { tracing: { samplingPercent: number } } };
    assert.equal(snap.proxy.serviceAccount, 'web');
    assert.equal(snap.telemetry.tracing.samplingPercent, 50, 'pod annotation telemetry.meshlet.io/sampling');
    const otherNs = await call(url, o().caPem, { token: await meshToken('team-b', 'b') });
    assert.equal(otherNs.status, 403, otherNs.text);
    assert.equal(otherNs.headers['x-meshlet-error'], 'MESHLET_SECURITY_FORBIDDEN');
    const otherSa = await until(async () => {
      const r = await call(url, o().caPem, { token: await meshToken('team-a', 'a') });
      return r.status === 403 ? r : undefined;
    }, 20_000, 'SA a refused the pod of SA web');
    assert.equal(otherSa.headers['x-meshlet-error'], 'MESHLET_SECURITY_FORBIDDEN');
  });

  test('/validate on 15017 refuses an invalid VirtualService at kubectl apply', async () => {
    const vs = (weight: number): string => JSON.stringify({
      apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `reviews-${weight}`, namespace: 'team-a' },
      spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight }, { destination: { host: 'reviews', subset: 'v2' }, weight: 0 }] }] },
    });
    const refused = await until(async () => {
      const r = await c().kubectl(['apply', '-f', '-'], { input: vs(0) });
      return r.code !== 0 ? r : undefined;
    }, 30_000, 'all-zero weights refused');
    assert.match(refused.stderr, /admission webhook/);
    assert.match(refused.stderr, /\[MESHLET_CRD_[A-Z_]+\]/);
    const ok = await c().kubectl(['apply', '-f', '-'], { input: vs(100) });
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('an AuthorizationPolicy with action CUSTOM is reported as unsupported in its status', async () => {
    const ap = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'ext', namespace: 'team-a' }, spec: { action: 'CUSTOM', provider: { name: 'ext-authz' }, rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] } };
    const r = await c().kubectl(['apply', '-f', '-'], { input: JSON.stringify(ap) });
    assert.equal(r.code, 0, r.stderr);
    const status = await until(async () => {
      const g = await c().kubectl(['get', 'authorizationpolicy', 'ext', '-n', 'team-a', '-o', 'json']);
      const s = (JSON.parse(g.stdout) as { status?: { conditions?: { type: string; status: string }[]; validationMessages?: { code: string; message: string; path: string }[] } }).status;
      return (s?.conditions ?? []).length > 0 ? s : undefined;
    }, 30_000, 'status on the CUSTOM policy');
    const msgs = status?.validationMessages ?? [];
    const custom = msgs.find((m) => m.path === 'spec.action');
    const accepted = status?.conditions?.find((x) => x.type === 'Accepted');
    assert.ok(custom !== undefined || accepted?.status === 'False', JSON.stringify(status));
    assert.equal(custom?.code, 'MESHLET_SECURITY_UNSUPPORTED', JSON.stringify(status));
    assert.match(custom?.message ?? '', /CUSTOM.*not supported/);
  });

  test('/ui answers and /metrics on 15014 has pushes, injections and certificate counters', async () => {
    const ui = await fetch(`${o().monitorUrl}/ui`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /<html/i);
    const m = await (await fetch(`${o().monitorUrl}/metrics`)).text();
    assert.ok((sample(m, 'pilot_xds_pushes', '{type="snapshot"}') ?? 0) >= 1, 'pushes');
    assert.match(m, /meshlet_sidecar_injection_total\{result="injected",reason="namespace-label"\} [1-9]/);
    assert.ok((sample(m, 'citadel_server_success_cert_issuance_count') ?? 0) >= 1, 'issued');
    assert.ok((sample(m, 'citadel_server_csr_count') ?? 0) >= 2, 'csr');
    assert.match(m, /meshlet_crd_validation_total/);
  });

  test('--webhook=false: a second operator serves push and metrics but nothing on the webhook port', async () => {
    const port = await freePort();
    const second = await startOperatorProcess(['--kubeconfig', c().kubeconfigPath, '--webhook=false', '--webhook-port', String(port), '--no-status', '--identity', 'no-webhook'], join(dir, 'root2.pem'), 60_000);
    try {
      const ready = await second.waitForLog((l) => typeof l.pushPort === 'number');
      assert.equal(ready.webhookPort, undefined, JSON.stringify(ready));
      const refused = await fetch(`https://127.0.0.1:${port}/inject`).then(() => 'answered', (e: unknown) => String((e as { cause?: { code?: string } }).cause?.code));
      assert.equal(refused, 'ECONNREFUSED');
      // Ready once every watched kind was listed (503 before that).
      await until(async () => ((await fetch(`${second.monitorUrl}/ready`)).status === 200 ? true : undefined), 30_000, '/ready 200');
      assert.equal(second.caPem.trim(), o().caPem.trim(), 'same mesh root: the CA Secret is shared, not re-created');
    } finally {
      await second.stop();
    }
  });
});
