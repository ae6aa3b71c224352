// The webhook's HTTPS server on 127.0.0.1: what the apiserver (or anyone) sees for good and bad reviews.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { Registry } from 'prom-client';
import type { FastifyPluginAsync } from 'fastify';
import { createLogger } from '../../common/log.ts';
import { createInjectionMetrics } from '../../webhook/metrics.ts';
import { applyPatch } from '../../webhook/patch-apply.ts';
import type { PatchOp } from '../../webhook/patch.ts';
import type { NamespaceInfo, Pod } from '../../webhook/pod-types.ts';
import { createWebhookServer, setServingCertificate, type WebhookApp } from '../../webhook/server.ts';
import { issueServingCert, type ServingCert } from '../../common/security/serving-cert.ts';
import { DEFAULT_VALUES } from '../../webhook/values.ts';
import { webPod } from './helpers/pods.ts';
import { validatePlugin } from '../../webhook/validate.ts';

const namespaces: Record<string, NamespaceInfo> = {
  shop: { name: 'shop', labels: { 'sidecar.inject': 'true' }, annotations: {} },
  plain: { name: 'plain', labels: {}, annotations: {} },
};

let app: WebhookApp;
let port = 0;
let cert: ServingCert;
const registry = new Registry();

const extra: FastifyPluginAsync = async (f) => {
  f.post('/extra', async () => ({ extra: true }));
};

before(async () => {
  cert = await issueServingCert(['127.0.0.1'], new Date(), 3600_000);
  app = await createWebhookServer({
    tls: { key: cert.keyPem, cert: cert.certPem },
    log: createLogger({ component: 'webhook-test', level: 'silent' }),
    maxBodyBytes: 64 * 1024,
    plugins: [extra, validatePlugin],
    deps: {
      namespace: async (n) => {
        const ns = namespaces[n];
        if (ns === undefined) throw new Error('apiserver unreachable');
        return ns;
      },
      values: () => DEFAULT_VALUES,
      native: () => true,
      metrics: createInjectionMetrics(registry),
      log: createLogger({ component: 'webhook-test', level: 'silent' }),
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});

after(async () => {
  await app?.close();
});

interface Reply { status: number; body: Record<string, unknown>; peerCert: string }

function post(path: string, body: string | Buffer, ca = cert.caPem, contentType = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, agent: false, headers: { 'content-type': contentType } }, (res) => {
      let data = '';
      const peer = (res.socket as TLSSocket).getPeerX509Certificate?.()?.fingerprint256 ?? '';
      res.on('data', (d: Buffer) => { data += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data === '' ? {} : JSON.parse(data) as Record<string, unknown>, peerCert: peer }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function review(pod: unknown, namespace = 'shop', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'uid-1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, operation: 'CREATE', namespace, object: pod, ...extra },
  });
}

type Resp = { uid: string; allowed: boolean; patchType?: string; patch?: string; status?: { code: number; message: string; reason: string } };

test('a pod CREATE in a mesh namespace gets a JSON patch that injects the sidecar', async () => {
  const pod = webPod();
  const r = await post('/inject', review(pod));
  assert.equal(r.status, 200);
  assert.equal(r.body.apiVersion, 'admission.k8s.io/v1');
  const resp = r.body.response as Resp;
  assert.equal(resp.uid, 'uid-1');
  assert.equal(resp.allowed, true);
  assert.equal(resp.patchType, 'JSONPatch');
  const ops = JSON.parse(Buffer.from(resp.patch!, 'base64').toString()) as PatchOp[];
  const patched = applyPatch(pod, ops) as Pod;
  assert.deepEqual(patched.spec?.initContainers?.map((c) => c.name), ['meshlet-init', 'meshlet-proxy']);
});

test('a pod in a plain namespace is allowed with only the skip reason added', async () => {
  const r = await post('/inject', review(webPod(), 'plain'));
  const resp = r.body.response as Resp;
  assert.equal(resp.allowed, true);
  const ops = JSON.parse(Buffer.from(resp.patch!, 'base64').toString()) as PatchOp[];
  assert.deepEqual(ops, [{ op: 'add', path: '/metadata/annotations/sidecar.meshlet.io~1status', value: '{"result":"skipped","reason":"namespace-not-enabled"}' }]);
});

test('malformed reviews are a clear 400 with a catalog code, and the server keeps serving', async () => {
  const bad: [string, string][] = [
    ['{not json', 'body is not JSON'],
    ['[]', 'body must be a JSON object'],
    [JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }), 'apiVersion must be admission.k8s.io/v1'],
    [JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 'request: missing'],
    [review({ metadata: {}, spec: { containers: 'web' } }), 'request.object.spec.containers'],
    [review({ metadata: { labels: { a: 1 } }, spec: { containers: [{ name: 'a' }] } }), 'request.object.metadata.labels'],
    ['', 'body is not JSON'],
  ];
  for (const [body, text] of bad) {
    const r = await post('/inject', body);
    assert.equal(r.status, 400, body);
    assert.equal(r.body.code, 'MESHLET_WEBHOOK_REVIEW_MALFORMED', body);
    assert.match(String(r.body.message), new RegExp(text.replace(/[.[\]]/g, '\\$&')), body);
  }
  const wrongType = await post('/inject', 'x=1', cert.caPem, 'application/x-www-form-urlencoded');
  assert.equal(wrongType.status, 400);
  assert.equal((await post('/inject', review(webPod()))).status, 200);
});

test('an oversized review is a 400 naming the limit, not a crash', async () => {
  const big = webPod();
  big.metadata!.annotations = { filler: 'x'.repeat(100 * 1024) };
  const r = await post('/inject', review(big));
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'MESHLET_WEBHOOK_REVIEW_TOO_LARGE');
  assert.equal((await post('/inject', review(webPod()))).status, 200);
});

test('other kinds and operations are allowed untouched', async () => {
  const r = await post('/inject', review(webPod(), 'shop', { operation: 'UPDATE' }));
  assert.deepEqual(r.body.response, { uid: 'uid-1', allowed: true });
});

test('a bad override annotation refuses the pod with the code and the annotation', async () => {
  const pod = webPod();
  pod.metadata!.annotations = { 'sidecar.istio.io/proxyCPU': 'lots' };
  const resp = (await post('/inject', review(pod))).body.response as Resp;
  assert.equal(resp.allowed, false);
  assert.equal(resp.status?.code, 400);
  assert.equal(resp.status?.reason, 'MESHLET_WEBHOOK_BAD_OVERRIDE');
  assert.match(resp.status!.message, /sidecar\.istio\.io\/proxyCPU: "lots"/);
});

test('a namespace that cannot be read refuses the pod, never admits it silently', async () => {
  const resp = (await post('/inject', review(webPod(), 'elsewhere'))).body.response as Resp;
  assert.equal(resp.allowed, false);
  assert.equal(resp.status?.reason, 'MESHLET_WEBHOOK_NAMESPACE_LOOKUP');
});

test('outcomes are counted in meshlet_sidecar_injection_total{result,reason}', async () => {
  const text = await registry.metrics();
  assert.match(text, /meshlet_sidecar_injection_total\{result="injected",reason="namespace-label"\} [1-9]/);
  assert.match(text, /meshlet_sidecar_injection_total\{result="skipped",reason="namespace-not-enabled"\} 1/);
  assert.match(text, /meshlet_sidecar_injection_total\{result="denied",reason="bad-override"\} 1/);
  assert.match(text, /meshlet_sidecar_injection_total\{result="error",reason="namespace-lookup"\} 1/);
});

test('extra route plugins are served beside /inject, including the CRD /validate plugin', async () => {
  const r = await post('/extra', '{}');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { extra: true });
  const v = await post('/validate', '{}');
  assert.equal(v.status, 400);
  assert.equal(v.body.code, 'MESHLET_CRD_REVIEW_MALFORMED');
});

test('the serving certificate can be swapped live', async () => {
  const before = (await post('/inject', review(webPod()))).peerCert;
  const next = await issueServingCert(['127.0.0.1'], new Date(), 3600_000);
  setServingCertificate(app, { key: next.keyPem, cert: next.certPem });
  const r = await post('/inject', review(webPod()), next.caPem);
  assert.equal(r.status, 200);
  assert.notEqual(r.peerCert, before);
  assert.equal(r.peerCert, new X509Certificate(next.certPem).fingerprint256);
  await assert.rejects(post('/inject', review(webPod()), cert.caPem));
});
