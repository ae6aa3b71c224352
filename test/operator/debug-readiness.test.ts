/**
 * The operator's `/debug/config_dump` while the sources have not listed every watched kind:
 * translating the partial World would show a config no proxy is served (say, without a DENY
 * policy not listed yet), so it answers 503 `MESHLET_OPERATOR_NOT_READY` with the pending
 * kinds until the real readiness tracker opens the core; then the translated snapshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../common/log.ts';
import type { ProxySnapshot } from '../../common/snapshot.ts';
import { OperatorCore } from '../../operator/core.ts';
import { buildDebugApp } from '../../operator/debug/server.ts';
import { ListReadiness } from '../../operator/kube/readiness.ts';

const AP = 'authorizationpolicies.security.istio.io/v1';
const WE = 'workloadentries.networking.istio.io/v1';

test('config_dump answers 503 with the pending kinds until every watched kind was listed', async (t) => {
  const core = new OperatorCore({ log: createLogger({ component: 'test', level: 'silent' }), holdMs: 200 });
  const lists = new ListReadiness([WE, AP], () => core.open());
  core.gate(() => lists.report());
  const app = buildDebugApp(core);
  t.after(async () => {
    core.close();
    await app.close();
  });
  core.store.upsert({ object: { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'reviews-1', namespace: 'default' }, spec: { address: '127.0.0.5', serviceAccount: 'reviews', labels: { app: 'reviews' } } } });
  lists.listed(WE);
  const url = '/debug/config_dump?proxy=reviews-1.default';

  const held = await app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' });
  assert.equal(held.statusCode, 503, held.body);
  assert.equal(held.headers['x-meshlet-error'], 'MESHLET_OPERATOR_NOT_READY');
  const body = held.json<{ code: string; pending: string[] }>();
  assert.equal(body.code, 'MESHLET_OPERATOR_NOT_READY');
  assert.deepEqual(body.pending, [AP]);

  lists.listed(AP);
  const ready = await app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' });
  assert.equal(ready.statusCode, 200, ready.body);
  assert.equal(ready.json<ProxySnapshot>().proxy.id, 'reviews-1.default');
});
