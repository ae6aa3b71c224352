/**
 * Real proxies export spans over OTLP/HTTP JSON to a real receiver. The apps forward only
 * the trace headers; the spans' parent links reproduce the 3-service chain.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { callInbound, startMesh, type Mesh } from './harness/mesh.ts';
import { startReceiver, type ReceivedSpan, type Receiver } from './harness/otlp-receiver.ts';

let mesh: Mesh;
let rx: Receiver;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function spansOf(traceId: string, count: number): Promise<ReceivedSpan[]> {
  for (let i = 0; i < 80; i++) {
    const got = rx.spans.filter((s) => s.traceId === traceId);
    if (got.length >= count) return got;
    await sleep(100);
  }
  return rx.spans.filter((s) => s.traceId === traceId);
}

before(async () => {
  rx = await startReceiver('127.0.0.1');
  mesh = await startMesh([
    { service: 'frontend', version: 'v1', calls: ['reviews'] },
    { service: 'reviews', version: 'v1', calls: ['ratings'] },
    { service: 'ratings', version: 'v1', calls: [] },
  ], { metrics: true, accessLog: false, tracing: { samplingPercent: 100, otlpEndpoint: rx.url } }, 21);
});

after(async () => {
  await mesh?.stop();
  await rx?.close();
});

test('a 3-service chain: SERVER and CLIENT spans linked parent to child across proxies', async () => {
  const r = await callInbound(mesh.byService('frontend'), '/chain');
  assert.equal(r.status, 200);
  const tp = mesh.seen.get('frontend')?.traceparent;
  assert.ok(typeof tp === 'string', 'the app got a traceparent');
  const traceId = tp.split('-')[1]!;
  const spans = await spansOf(traceId, 5);
  assert.equal(spans.length, 5, `5 spans, got ${JSON.stringify(spans.map((s) => s.name))}`);
  const find = (service: string, kind: number): ReceivedSpan => {
    const s = spans.find((x) => x.service === `${service}.default` && x.kind === kind);
    assert.ok(s !== undefined, `span ${service}/${kind}`);
    return s;
  };
  const feServer = find('frontend', 2);
  const feClient = find('frontend', 3);
  const rvServer = find('reviews', 2);
  const rvClient = find('reviews', 3);
  const raServer = find('ratings', 2);
  assert.equal(feServer.parentSpanId, '', 'the first span is the root');
  assert.equal(feClient.parentSpanId, feServer.spanId);
  assert.equal(rvServer.parentSpanId, feClient.spanId);
  assert.equal(rvClient.parentSpanId, rvServer.spanId);
  assert.equal(raServer.parentSpanId, rvClient.spanId);
  assert.equal(feClient.name, 'reviews.default.svc.cluster.local:8080/*');
  assert.equal(raServer.name, 'ratings.default.svc.cluster.local:8080/*');
  // Istio-like attributes.
  assert.equal(rvServer.attributes['http.status_code'], '200');
  assert.equal(rvServer.attributes['http.method'], 'GET');
  assert.equal(rvServer.attributes['istio.canonical_service'], 'reviews');
  assert.equal(rvServer.attributes['istio.namespace'], 'default');
  assert.equal(feClient.attributes.upstream_cluster, 'outbound|8080||reviews.default.svc.cluster.local');
  assert.equal(feClient.attributes.response_flags, '-');
  assert.equal(feClient.attributes.component, 'proxy');
  // One x-request-id minted at the edge, propagated by every hop and recorded on every span.
  const rid = mesh.seen.get('frontend')?.['x-request-id'];
  assert.ok(typeof rid === 'string' && rid.length > 0);
  assert.equal(mesh.seen.get('ratings')?.['x-request-id'], rid);
  for (const s of spans) assert.equal(s.attributes['guid:x-request-id'], rid);
  // B3 multi headers are written too.
  assert.equal(mesh.seen.get('ratings')?.['x-b3-traceid'], traceId);
});

test('B3 from the client (multi and single header) continues the caller\'s trace', async () => {
  const traceId = 'aaaabbbbccccddddeeeeffff00001111';
  const parent = '1234567890abcdef';
  await callInbound(mesh.byService('reviews'), '/b3', { 'x-b3-traceid': traceId, 'x-b3-spanid': parent, 'x-b3-sampled': '1' });
  const spans = await spansOf(traceId, 3);
  assert.equal(spans.length, 3);
  assert.equal(spans.find((s) => s.service === 'reviews.default' && s.kind === 2)?.parentSpanId, parent);
  const t2 = '0000000000000000abcdefabcdefabcd';
  await callInbound(mesh.byService('reviews'), '/b3s', { b3: `abcdefabcdefabcd-${parent}-1` });
  const s2 = await spansOf(t2, 3);
  assert.equal(s2.length, 3, '64-bit B3 trace ids are padded to 128 bits');
  assert.ok(typeof mesh.seen.get('reviews')?.b3 === 'string', 'b3 single header written back when it came in');
});

test('sampling: ParentBased keeps the caller\'s "not sampled"; per-pod 0% makes no spans but still propagates', async () => {
  const traceId = 'cccccccccccccccccccccccccccc0001';
  await callInbound(mesh.byService('frontend'), '/nosample', { traceparent: `00-${traceId}-1111111111111111-00` });
  assert.equal(mesh.seen.get('ratings')?.traceparent?.toString().split('-')[1], traceId, 'context propagated');
  assert.ok(String(mesh.seen.get('ratings')?.traceparent).endsWith('-00'));
  await mesh.setTelemetry({ metrics: true, accessLog: false, tracing: { samplingPercent: 0, otlpEndpoint: rx.url } });
  const before = rx.spans.length;
  await callInbound(mesh.byService('frontend'), '/zero');
  const tp = String(mesh.seen.get('frontend')?.traceparent);
  // A sampled parent still wins over 0%.
  const forced = 'dddddddddddddddddddddddddddd0001';
  await callInbound(mesh.byService('frontend'), '/forced', { traceparent: `00-${forced}-1111111111111111-01` });
  const spans = await spansOf(forced, 5);
  assert.equal(spans.length, 5);
  assert.equal(rx.spans.filter((s) => s.traceId === tp.split('-')[1]).length, 0, 'a root at 0% is not sampled');
  assert.equal(rx.spans.length - before, 5);
  assert.equal(rx.spans.filter((s) => s.traceId === traceId).length, 0);
});

test('an unreachable (hanging) collector never breaks requests', async () => {
  const hang = await startReceiver('127.0.0.1', { hang: true });
  try {
    await mesh.setTelemetry({ metrics: true, accessLog: false, tracing: { samplingPercent: 100, otlpEndpoint: hang.url } });
    for (let i = 0; i < 50; i++) assert.equal((await callInbound(mesh.byService('frontend'), `/h${i}`)).status, 200);
    for (let i = 0; i < 40 && hang.posts === 0; i++) await sleep(100);
    assert.ok(hang.posts > 0, 'the proxies did try to export');
    for (let i = 0; i < 20; i++) assert.equal((await callInbound(mesh.byService('frontend'), `/h2${i}`)).status, 200);
  } finally {
    await hang.close();
  }
});
