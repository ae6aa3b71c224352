import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyCollector } from '../../operator/ui/collector.ts';

const line = (v: number, code = '200'): string => `istio_requests_total{reporter="source",source_workload="a",source_workload_namespace="ns",destination_service="b.ns.svc.cluster.local",destination_workload="b",destination_workload_namespace="ns",response_code="${code}"} ${v}\n`;

test('rates from scrape deltas over the window, counter resets, failing targets reported', async () => {
  let now = 0;
  let value = 10;
  const fetchFn = (async (url: string) => {
    if (url.includes('down')) throw new Error('ECONNREFUSED');
    return new Response(line(value) + line(value / 10, '503'));
  }) as typeof fetch;
  const c = new ProxyCollector({ targets: () => ['http://a/stats/prometheus', 'http://down/stats/prometheus'], windowMs: 10_000, minIntervalMs: 1000, now: () => now, fetch: fetchFn });
  await c.refresh();
  assert.equal(c.hasRates, false);
  assert.equal(c.errors.get('http://down/stats/prometheus'), 'ECONNREFUSED');
  now = 500;
  value = 1000;
  await c.refresh(); // too soon: no scrape
  assert.equal(c.hasRates, false);
  now = 2000;
  value = 30;
  await c.refresh();
  const r = c.rates().requests.find((x) => x.labels.response_code === '200')!;
  assert.equal(r.value, 10, '(30 - 10) / 2 s');
  now = 4000;
  value = 4; // proxy restarted: counter reset
  await c.refresh();
  assert.ok(c.rates().requests.every((x) => x.value >= 0));
  now = 30_000;
  value = 64;
  await c.refresh(); // older samples fall out of the window
  assert.equal(c.rates().requests.find((x) => x.labels.response_code === '200')!.value, (64 - 4) / 26);
});

test('the first graph request waits one interval for a second scrape', async () => {
  let now = 0;
  let n = 0;
  const c = new ProxyCollector({ targets: () => ['http://a/'], minIntervalMs: 1000, now: () => now, fetch: (async () => new Response(line((n += 5)))) as typeof fetch });
  await c.refreshForRates(async (ms) => {
    now += ms;
  });
  assert.equal(c.hasRates, true);
  assert.equal(c.rates().requests[0]!.value, 5);
});

test('windows: rates over 1 or 5 minutes from the same history, chart points per interval, old scrapes thinned', async () => {
  let now = 0;
  let value = 0;
  let scrapes = 0;
  const c = new ProxyCollector({ targets: () => ['http://a/'], minIntervalMs: 1000, now: () => now, fetch: (async () => {
    scrapes++;
    return new Response(line(value));
  }) as typeof fetch });
  // 10 req/s for 4 minutes, then 40 req/s for the last minute; one scrape a second.
  for (let s = 0; s <= 300; s++) {
    now = s * 1000;
    value += s <= 240 ? 10 : 40;
    await c.refresh();
  }
  assert.equal(scrapes, 301);
  const rate = (w: number): number => c.rates(w).requests.find((r) => r.labels.response_code === '200')!.value;
  assert.equal(rate(60_000), 40, 'last minute');
  assert.equal(rate(300_000), (240 * 10 + 60 * 40) / 300, 'last 5 minutes');
  const points = c.series(300_000);
  assert.equal(points.length, 12);
  assert.deepEqual(points.map((p) => p.t), Array.from({ length: 12 }, (_, i) => 300_000 - (11 - i) * 25_000));
  assert.equal(points[0]!.rates.requests[0]!.value, 10);
  assert.equal(points[11]!.rates.requests[0]!.value, 40);
  // Every scrape of the last minute is kept, older ones one per 5 s: ~60 + 48, not 301.
  assert.ok(c.scrapesKept >= 100 && c.scrapesKept <= 115, String(c.scrapesKept));
  assert.equal(c.series(60_000).length, 12);
});
