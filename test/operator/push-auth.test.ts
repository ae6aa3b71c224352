/**
 * The push server with the mesh authentication hook (local-mode token files): no token →
 * 401, another workload's config → 403, its own → 200, all with catalog codes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { FastifyInstance } from 'fastify';
import { OperatorCore } from '../../operator/core.ts';
import { buildPushApp } from '../../operator/push/server.ts';
import { meshProxyAuthenticator } from '../../operator/push/authenticate.ts';
import { issuePushServingCert } from '../../operator/push/serving-cert.ts';
import { FileTokenVerifier } from '../../operator/ca/token-verifier.ts';
import { createLogger } from '../../common/log.ts';

let dir: string;
let core: OperatorCore;
let app: FastifyInstance;
let agent: Agent;
let base: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshlet-push-auth-'));
  mkdirSync(join(dir, 'default'));
  writeFileSync(join(dir, 'default', 'reviews.token'), 'token-of-reviews\n');
  core = new OperatorCore({ log: createLogger({ component: 'test', level: 'silent' }), holdMs: 200 });
  for (const [name, sa] of [['reviews-1', 'reviews'], ['ratings-1', 'ratings']]) {
    core.store.upsert({ object: { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: name as string, namespace: 'default' }, spec: { address: '127.0.0.5', serviceAccount: sa, labels: { app: name } } } });
  }
  core.flush();
  const cert = await issuePushServingCert();
  app = buildPushApp(core, { tls: { key: cert.keyPem, cert: cert.certPem }, authenticate: meshProxyAuthenticator({ verifier: new FileTokenVerifier(dir), trustDomain: 'cluster.local' }) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  base = `https://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  agent = new Agent({ connect: { ca: cert.caPem } });
});

after(async () => {
  core.close();
  await agent.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(proxy: string, token?: string): Promise<{ status: number; code: unknown; body: string }> {
  const res = await request(`${base}/v1/config?proxy=${proxy}&version=`, { dispatcher: agent, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, code: res.headers['x-meshlet-error'], body: await res.body.text() };
}

test('no token → 401', async () => {
  const r = await get('reviews-1.default');
  assert.equal(r.status, 401);
  assert.equal(r.code, 'MESHLET_SECURITY_UNAUTHENTICATED');
});

test("another workload's config → 403", async () => {
  const r = await get('ratings-1.default', 'token-of-reviews');
  assert.equal(r.status, 403);
  assert.equal(r.code, 'MESHLET_SECURITY_FORBIDDEN');
});

test('its own config → 200 with its identity', async () => {
  const r = await get('reviews-1.default', 'token-of-reviews');
  assert.equal(r.status, 200);
  assert.equal((JSON.parse(r.body) as { proxy: { spiffeId: string } }).proxy.spiffeId, 'spiffe://cluster.local/ns/default/sa/reviews');
});
