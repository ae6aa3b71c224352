/** Merged metrics: the proxy's 15090 also carries the app's own metrics (webhook contract). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { ProxyMetrics } from '../../proxy/telemetry/metrics.ts';
import { startStatsServer } from '../../proxy/telemetry/metrics-server.ts';
import { appMetricsFromEnv, filterAppExposition } from '../../proxy/telemetry/merged-metrics.ts';

test('APP_METRICS parsing', () => {
  assert.deepEqual(appMetricsFromEnv({ APP_METRICS: '{"port": 9102, "path": "/app-metrics", "scheme": "http"}' }), { port: 9102, path: '/app-metrics', scheme: 'http' });
  assert.equal(appMetricsFromEnv({ APP_METRICS: '{"port": "x"}' }), undefined);
  assert.equal(appMetricsFromEnv({}), undefined);
});

test('app families the proxy already exports are dropped', () => {
  const t = filterAppExposition('# HELP process_cpu_seconds_total x\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 3\norders_total{a="1"} 2\n', new Set(['process_cpu_seconds_total']));
  assert.equal(t, 'orders_total{a="1"} 2');
  assert.equal(filterAppExposition('h_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', new Set(['h'])), '');
});

test('a real app metrics endpoint is appended to /stats/prometheus; a dead one leaves ours intact', async () => {
  const app = createServer((req, res) => {
    if (req.url === '/app-metrics') res.end('# TYPE orders_total counter\norders_total{shop="a"} 7\nprocess_cpu_seconds_total 99\n');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => app.listen(0, '127.0.12.60', () => r()));
  const port = (app.address() as { port: number }).port;
  const m = new ProxyMetrics();
  const stats = await startStatsServer(m, { host: '127.0.12.60', port: 0, appHost: '127.0.12.60', appMetrics: { port, path: '/app-metrics', scheme: 'http' } });
  const dead = await startStatsServer(m, { host: '127.0.12.60', port: 0, appHost: '127.0.12.60', appMetrics: { port: 1, path: '/m', scheme: 'http' } });
  try {
    const text = await (await fetch(`http://127.0.12.60:${stats.port}/stats/prometheus`)).text();
    assert.match(text, /\norders_total\{shop="a"\} 7\n/);
    assert.equal(text.match(/^process_cpu_seconds_total /gm)?.length, 1, 'no duplicate family');
    assert.match(text, /# TYPE istio_requests_total counter/);
    const ours = await (await fetch(`http://127.0.12.60:${dead.port}/stats/prometheus`)).text();
    assert.match(ours, /# TYPE istio_requests_total counter/);
    assert.ok(!ours.includes('orders_total'));
  } finally {
    await stats.close();
    await dead.close();
    app.close();
  }
});
