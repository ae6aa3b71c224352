import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { CounterFamily, FastRegistry, HistogramFamily, register } from '../../proxy/telemetry/metrics-family.ts';

test('pre-rendered exposition text is byte-identical to prom-client formatting', async () => {
  const build = (r: Registry): void => {
    const c = new CounterFamily('istio_requests_total', 'Requests\nprocessed');
    const h = new HistogramFamily('istio_request_duration_milliseconds', 'Duration', [0.5, 1, 5]);
    register(r, c);
    register(r, h);
    const l = { response_code: '200', reporter: 'source', source_workload: 'we"ird\\name' };
    c.child(l).inc();
    c.child(l).inc(2);
    c.child({ ...l, response_code: '503' }).inc();
    for (const v of [0.2, 0.5, 0.7, 3, 100]) h.child(l).observe(v);
  };
  const plain = new Registry();
  const fast = new FastRegistry();
  build(plain);
  build(fast);
  const expected = await plain.metrics();
  assert.equal(await fast.metrics(), expected);
  assert.match(expected, /istio_requests_total\{response_code="200",reporter="source",source_workload="we\\"ird\\\\name"\} 3/);
  assert.match(expected, /istio_request_duration_milliseconds_bucket\{[^}]*le="0.5"\} 2\n/);
  assert.match(expected, /le="\+Inf"\} 5\n/);
});
