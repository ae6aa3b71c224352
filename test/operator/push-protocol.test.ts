/**
 * The push protocol over real HTTPS against an in-process operator core: full snapshot on
 * a changed hash, 304 after the hold, ACK → SYNCED, NACK recorded (not resent) → NACK with
 * the error, and a new version after the next change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, fetch, request } from 'undici';
import { OperatorCore } from '../../operator/core.ts';
import { buildPushApp } from '../../operator/push/server.ts';
import { issuePushServingCert } from '../../operator/push/serving-cert.ts';
import { ManualClock } from '../../common/clock.ts';
import { createLogger } from '../../common/log.ts';
import { validateSnapshot } from '../../common/snapshot-validate.ts';
import type { FastifyInstance } from 'fastify';
import type { K8sObject } from '../../operator/world/objects.ts';

let core: OperatorCore;
// The hold runs on this clock: a held request ends only when the World changes or the test
// advances the clock, so "held" and "answered on the change" are facts, not timings.
const clock = new ManualClock(Date.now());
const HOLD_MS = 30_000;
let app: FastifyInstance;
let agent: Agent;
let base: string;

const svc = (name: string): K8sObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 8080 }] } });

before(async () => {
  core = new OperatorCore({ log: createLogger({ component: 'test', level: 'silent' }), holdMs: HOLD_MS, timers: clock });
  core.store.upsert({ object: svc('a') });
  core.flush();
  const cert = await issuePushServingCert();
  app = buildPushApp(core, { tls: { key: cert.keyPem, cert: cert.certPem } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  base = `https://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  agent = new Agent({ connect: { ca: cert.caPem } });
});

after(async () => {
  core.close();
  await agent.close();
  await app.close();
});

/** Resolves once the operator holds a request of proxy `id` (its long-poll waiter is registered). */
async function held(id: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if ((core.proxies.states.get(id)?.waiters.size ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no request of ${id} is held`);
}

/** `p` settled, or the failure bound passed (a deadline for a hang, not a timing assertion). */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer`)), 20_000).unref())]);
}

/** A request the operator holds: waits until it is held, then lets the hold run out. */
async function getHeldToEnd(q: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const pending = get(q);
  await held(q.proxy!);
  clock.advance(HOLD_MS);
  return within(pending, 'the held request');
}

async function get(q: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const res = await request(`${base}/v1/config?${new URLSearchParams(q)}`, { dispatcher: agent });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

test('first request gets the full, valid snapshot; same version is held then 304', async () => {
  const r = await get({ proxy: 'p1.default', version: '' });
  assert.equal(r.status, 200);
  const snap = JSON.parse(r.body) as { version: string };
  assert.ok(validateSnapshot(snap).ok);
  assert.equal(r.headers['x-meshlet-version'], snap.version);
  let settled = false;
  const pending = get({ proxy: 'p1.default', version: snap.version, ack: snap.version }).finally(() => (settled = true));
  await held('p1.default');
  clock.advance(HOLD_MS - 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'still held 1 ms before the hold ends');
  clock.advance(1);
  const again = await within(pending, 'the held request');
  assert.equal(again.status, 304);
  assert.equal(core.proxyStatus().find((p) => p.id === 'p1.default')?.status, 'SYNCED');
});

test('a held request is answered as soon as the World changes', async () => {
  const first = JSON.parse((await get({ proxy: 'p2.default', version: '' })).body) as { version: string };
  let settled = false;
  const pending = get({ proxy: 'p2.default', version: first.version, ack: first.version }).finally(() => (settled = true));
  await held('p2.default');
  assert.equal(settled, false, 'the request is held while nothing changes');
  core.store.upsert({ object: svc('b') });
  core.flush();
  // The hold's clock never moves here: only the change can answer the request.
  const r = await within(pending, 'the held request');
  assert.equal(r.status, 200);
  assert.notEqual((JSON.parse(r.body) as { version: string }).version, first.version);
});

test('a NACK is recorded, the rejected version is not resent, proxy-status shows NACK', async () => {
  const s1 = JSON.parse((await get({ proxy: 'p3.default', version: '' })).body) as { version: string };
  assert.equal((await getHeldToEnd({ proxy: 'p3.default', version: s1.version, ack: s1.version })).status, 304);
  core.store.upsert({ object: svc('c') });
  core.flush();
  const s2 = JSON.parse((await get({ proxy: 'p3.default', version: s1.version })).body) as { version: string };
  const r = await getHeldToEnd({ proxy: 'p3.default', version: s1.version, nack: s2.version, error: 'MESHLET_SNAPSHOT_INVALID: clusters[0]' });
  assert.equal(r.status, 304, 'the NACKed snapshot is not sent again');
  const row = core.proxyStatus().find((p) => p.id === 'p3.default');
  assert.equal(row?.status, 'NACK');
  assert.equal(row?.error, 'MESHLET_SNAPSHOT_INVALID: clusters[0]');
  assert.equal(row?.acked, s1.version);
  const metrics = await core.metrics.registry.metrics();
  assert.match(metrics, /pilot_total_xds_rejects\{type="snapshot"\} 1/);
});

test('a bad request names the problem with a catalog code', async () => {
  const r = await get({ version: '' });
  assert.equal(r.status, 400);
  assert.equal(r.headers['x-meshlet-error'], 'MESHLET_OPERATOR_BAD_REQUEST');
});

test('a gzip-accepting client (undici fetch) gets the same snapshot, compressed', async () => {
  const plain = await get({ proxy: 'p4.default', version: '' });
  const res = await fetch(`${base}/v1/config?proxy=p4.default&version=`, { dispatcher: agent, headers: { 'accept-encoding': 'gzip' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-encoding'), 'gzip');
  assert.equal(await res.text(), plain.body);
});
