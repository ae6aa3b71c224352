import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractParent, injectContext, parseB3Single, parseTraceparent } from '../../proxy/telemetry/tracing-headers.ts';
import { MeshSampler, idGenerator, ratioSampled } from '../../proxy/telemetry/tracing-sampler.ts';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

test('traceparent: valid, sampled flag, and rejects bad versions and zero ids', () => {
  assert.deepEqual(parseTraceparent(`00-${T}-${S}-01`), { traceId: T, spanId: S, sampled: true, format: 'w3c' });
  assert.equal(parseTraceparent(`00-${T}-${S}-00`)?.sampled, false);
  assert.equal(parseTraceparent(`ff-${T}-${S}-01`), undefined);
  assert.equal(parseTraceparent(`00-${'0'.repeat(32)}-${S}-01`), undefined);
  assert.equal(parseTraceparent(`00-${T}-${S}-01-extra`), undefined);
  assert.equal(parseTraceparent(`01-${T}-${S}-01-extra`)?.traceId, T, 'a future version is read by its first fields');
});

test('b3 single and multi, 64-bit ids padded, deferred sampling', () => {
  assert.deepEqual(parseB3Single(`${T}-${S}-1`), { traceId: T, spanId: S, sampled: true, format: 'b3' });
  assert.equal(parseB3Single(`${T}-${S}`)?.sampled, undefined);
  assert.equal(parseB3Single('0'), undefined);
  const m = extractParent({ 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': S, 'x-b3-sampled': '0' });
  assert.deepEqual(m, { traceId: `0000000000000000a3ce929d0e0e4736`, spanId: S, sampled: false, format: 'b3multi' });
  assert.equal(extractParent({ 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-flags': '1' })?.sampled, true, 'debug flag samples');
});

test('precedence: traceparent, then b3 single, then b3 multi; tracestate kept', () => {
  const p = extractParent({ traceparent: `00-${T}-${S}-01`, tracestate: 'vendor=x', b3: `${'1'.repeat(32)}-${S}-1` });
  assert.equal(p?.traceId, T);
  assert.equal(p?.traceState, 'vendor=x');
  assert.equal(extractParent({ b3: `${'1'.repeat(32)}-${S}-1`, 'x-b3-traceid': T, 'x-b3-spanid': S })?.traceId, '1'.repeat(32));
});

test('inject writes traceparent, tracestate, b3 multi, and b3 single when it came in', () => {
  const h: Record<string, string | string[] | undefined> = { 'x-b3-flags': '1', b3: 'old' };
  injectContext(h, { traceId: T, spanId: 'aaaaaaaaaaaaaaaa', sampled: true, parentSpanId: S, traceState: 'a=b', b3Single: true });
  assert.equal(h.traceparent, `00-${T}-aaaaaaaaaaaaaaaa-01`);
  assert.equal(h.tracestate, 'a=b');
  assert.equal(h['x-b3-traceid'], T);
  assert.equal(h['x-b3-spanid'], 'aaaaaaaaaaaaaaaa');
  assert.equal(h['x-b3-parentspanid'], S);
  assert.equal(h['x-b3-sampled'], '1');
  assert.equal(h['x-b3-flags'], undefined);
  assert.equal(h.b3, `${T}-aaaaaaaaaaaaaaaa-1-${S}`);
  injectContext(h, { traceId: T, spanId: 'bbbbbbbbbbbbbbbb', sampled: false });
  assert.equal(h.b3, undefined);
  assert.equal(h.traceparent, `00-${T}-bbbbbbbbbbbbbbbb-00`);
});

test('ratio sampling is a deterministic function of the trace id; injected ids make counts exact', () => {
  // Ids from an injected seeded source (mulberry32): the same 10,000 trace ids every run.
  let seed = 42;
  const gen = idGenerator(() => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
  const N = 10_000;
  let one = 0;
  let all = 0;
  for (let k = 0; k < N; k++) {
    const id = gen.generateTraceId();
    if (ratioSampled(id, 1)) one++;
    if (ratioSampled(id, 100)) all++;
  }
  assert.equal(all, N);
  assert.ok(one >= 90 && one <= 110, `1% of ${N} evenly spread ids sampled, got ${one}`);
  assert.equal(ratioSampled('0'.repeat(31) + '1', 0), false);
  const s = new MeshSampler(1);
  s.setPercent(50);
  assert.equal(s.percent, 50);
});
