/** The /validate fastify plugin over real HTTPS (throwaway self-signed cert), AdmissionReview v1 in and out. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fastify, type FastifyInstance } from 'fastify';
import { generate } from 'selfsigned';
import { Registry } from 'prom-client';
import { validatePlugin } from '../../webhook/validate.ts';
import { bigVirtualService } from './big-vs.ts';

let app: FastifyInstance;
const registry = new Registry();
let ca = '';
let port = 0;

before(async () => {
  const cert = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  ca = cert.cert;
  app = fastify({ https: { key: cert.private, cert: cert.cert } });
  await app.register(validatePlugin, { registry });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
after(async () => {
  await app?.close();
});

function post(body: unknown): Promise<{ status: number; json: Record<string, any> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const review = (object: unknown, operation = 'CREATE'): unknown => ({
  apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
  request: { uid: 'u-1', operation, namespace: 'prod', kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }, object },
});

const vs = (http: unknown[], extra: Record<string, unknown> = {}): unknown => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'reviews', namespace: 'prod' }, spec: { hosts: ['reviews'], http, ...extra } });

test('an invalid object is denied with every path, reason, code and hint', async () => {
  const r = await post(review(vs([{ route: [{ destination: { host: 'reviews' } }], redirect: { uri: '/x', redirectCode: 200 } }])));
  assert.equal(r.status, 200);
  assert.equal(r.json.apiVersion, 'admission.k8s.io/v1');
  assert.equal(r.json.response.uid, 'u-1');
  assert.equal(r.json.response.allowed, false);
  assert.equal(r.json.response.status.code, 400);
  const msg = r.json.response.status.message as string;
  assert.match(msg, /^VirtualService prod\/reviews is invalid \(2 errors\):/);
  assert.match(msg, /spec\.http\[0\]: route and redirect are exclusive \[MESHLET_CRD_HTTP_CONFLICT\]\n {2}hint: /);
  assert.match(msg, /spec\.http\[0\]\.redirect\.redirectCode: 200 is not a 3xx redirect code \[MESHLET_CRD_REDIRECT\]/);
});

test('a valid object is allowed; unenforced fields come back as warnings', async () => {
  const r = await post(review(vs([{ route: [{ destination: { host: 'reviews' } }] }], { gateways: ['my-gw'] })));
  assert.equal(r.json.response.allowed, true);
  assert.deepEqual(r.json.response.warnings, ['spec.gateways: accepted but not enforced by meshlet yet: meshlet has no gateways yet: only the sidecars ("mesh") apply these routes [MESHLET_CRD_NOT_ENFORCED]']);
});

test('DELETE is always allowed, even of an invalid object', async () => {
  const r = await post(review(vs([]), 'DELETE'));
  assert.equal(r.json.response.allowed, true);
});

test('a body that is not an AdmissionReview is a 400 with a catalog code', async () => {
  const r = await post({ hello: 'world' });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'MESHLET_CRD_REVIEW_MALFORMED');
  assert.ok(typeof r.json.hint === 'string' && r.json.hint.length > 0);
});

test('a 1,000-route VirtualService is validated through the webhook', async () => {
  const ok = await post(review(bigVirtualService(1000)));
  assert.equal(ok.json.response.allowed, true);
  const bad = bigVirtualService(1000) as { spec: { http: { route: { weight?: number }[] }[] } };
  (bad.spec.http[999]?.route[0] as { weight?: number }).weight = -1;
  const r = await post(review(bad));
  assert.equal(r.json.response.allowed, false);
  assert.match(r.json.response.status.message as string, /spec\.http\[999\]\.route\[0\]\.weight: weight -1 is negative/);
});

test('reviews are counted by kind and outcome, denials by error code', async () => {
  const before = await registry.getSingleMetricAsString('meshlet_crd_validation_errors_total');
  const m = before.match(/meshlet_crd_validation_errors_total\{code="MESHLET_CRD_REDIRECT"\} (\d+)/);
  const n = Number(m?.[1] ?? 0);
  await post(review(vs([{ redirect: { uri: '/x', redirectCode: 200 } }])));
  const after = await registry.getSingleMetricAsString('meshlet_crd_validation_errors_total');
  assert.match(after, new RegExp(`meshlet_crd_validation_errors_total\\{code="MESHLET_CRD_REDIRECT"\\} ${n + 1}`));
  const reviews = await registry.getSingleMetricAsString('meshlet_crd_validation_total');
  assert.match(reviews, /meshlet_crd_validation_total\{kind="VirtualService",result="denied"\} \d+/);
  assert.match(reviews, /meshlet_crd_validation_total\{kind="VirtualService",result="allowed_with_warnings"\} \d+/);
  assert.match(reviews, /meshlet_crd_validation_total\{kind="unknown",result="malformed"\} \d+/);
});
