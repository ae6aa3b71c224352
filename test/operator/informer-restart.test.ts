/**
 * Informer restarts on virtual time, against a real local HTTP server playing the
 * apiserver: errors → restart with doubling backoff (counted in the metric), a 404 → zero
 * objects and a steady retry until the resource appears, then a relist fills the store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { ResourceWatcher } from '../../operator/kube/watcher.ts';
import { KindAggregator } from '../../operator/kube/aggregator.ts';
import { WATCHED } from '../../operator/kube/resources.ts';
import { ManualClock } from '../../common/clock.ts';
import { Store } from '../../operator/store/store.ts';
import { createOperatorMetrics } from '../../operator/metrics.ts';
import { createLogger } from '../../common/log.ts';

let server: Server;
let port = 0;
let mode: 'error' | 'missing' | 'ok' = 'error';
const watches: ServerResponse[] = [];

before(async () => {
  server = createServer((req, res) => {
    if (req.url?.includes('watch=true')) {
      // Hold watches open and silent, as an idle apiserver does.
      res.writeHead(200, { 'content-type': 'application/json' });
      watches.push(res);
      return;
    }
    if (mode === 'error') res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"etcd is sad"}');
    else if (mode === 'missing') res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
    else {
      const item = { metadata: { name: 'r', namespace: 'default', resourceVersion: '5' }, spec: { hosts: ['r'], http: [{ route: [{ destination: { host: 'r' } }] }] } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ metadata: { resourceVersion: '5' }, items: [item] }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  port = typeof a === 'object' && a !== null ? a.port : 0;
});

after(async () => {
  for (const w of watches) w.end();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  return kc;
}

/** Lets real I/O (the HTTP round trip) finish, bounded in count. */
async function settle(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(pred(), what);
}

test('errors restart the informer with doubling backoff; a 404 empties; a later list fills the store', async () => {
  const timers = new ManualClock();
  const delays: number[] = [];
  const recording = { now: () => timers.now(), clearTimeout: (h: unknown) => timers.clearTimeout(h), setTimeout: (fn: () => void, ms: number) => (delays.push(ms), timers.setTimeout(fn, ms)) };
  const metrics = createOperatorMetrics();
  const store = new Store();
  const res = WATCHED.find((r) => r.kind === 'VirtualService');
  assert.ok(res);
  const w = new ResourceWatcher(kubeConfig(), res, 'v1', new KindAggregator('VirtualService', ['v1'], store, metrics), { timers: recording, metrics, log: createLogger({ component: 't', level: process.env.T_LOG ?? 'silent', destination: process.stderr }) });
  w.start();
  for (let i = 1; i <= 3; i++) {
    await settle(() => delays.length === i, `restart ${i} scheduled`);
    if (i < 3) timers.advance(delays[i - 1] as number);
  }
  assert.deepEqual(delays, [200, 400, 800], 'backoff doubles from 200 ms');
  const restarts = (await metrics.informerRestarts.get()).values[0]?.value;
  assert.equal(restarts, 3);
  mode = 'missing';
  timers.advance(800);
  await settle(() => delays.length === 4, 'retry after 404 scheduled');
  assert.equal(delays[3], 2000, 'a missing resource is retried steadily');
  assert.equal(w.missing, true);
  assert.equal(store.all().length, 0);
  mode = 'ok';
  timers.advance(2000);
  await settle(() => store.all().length === 1, 'the object arrives once the resource is served');
  assert.equal(w.healthy, true);
  assert.equal(store.get('VirtualService/default/r')?.object.apiVersion, 'networking.istio.io/v1');
  await w.stop();
});
