/**
 * Traces in a real tracing backend: real proxies export OTLP/HTTP to a real Jaeger v2 (built
 * from its Go module, see jaeger-binary.ts), and a request through frontend → reviews →
 * ratings is found through Jaeger's query API as one trace: five spans (a SERVER span per
 * hop, a CLIENT span per call) linked parent to child, the services' names as Jaeger shows
 * them, and Istio's span tags (response code, flags, upstream cluster).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { allocAddress } from '../proxy/helpers/addresses.ts';
import { callInbound, startMesh, type Mesh } from '../telemetry/harness/mesh.ts';
import { getTrace, startJaeger, type Jaeger, type JaegerTrace } from './jaeger.ts';

let jaeger: Jaeger;
let mesh: Mesh;

before(async () => {
  const host = allocAddress(88);
  jaeger = await startJaeger(host);
  mesh = await startMesh([
    { service: 'frontend', version: 'v1', calls: ['reviews'] },
    { service: 'reviews', version: 'v1', calls: ['ratings'] },
    { service: 'ratings', version: 'v1', calls: [] },
  ], { metrics: true, accessLog: false, tracing: { samplingPercent: 100, otlpEndpoint: jaeger.otlp } }, 10, host.split('.').slice(0, 3).join('.'));
});

after(async () => {
  await mesh?.stop();
  await jaeger?.stop();
});

const tag = (tags: { key: string; value: unknown }[], key: string): unknown => tags.find((t) => t.key === key)?.value;

test('frontend → reviews → ratings is one trace in Jaeger, parent to child, with Istio tags', async () => {
  const r = await callInbound(mesh.byService('frontend'), '/product');
  assert.equal(r.status, 200);
  const traceId = String(mesh.seen.get('frontend')?.traceparent).split('-')[1]!;
  let trace: JaegerTrace | undefined;
  for (let i = 0; i < 100 && (trace === undefined || trace.spans.length < 5); i++) {
    trace = await getTrace(jaeger.query, traceId);
    if (trace === undefined || trace.spans.length < 5) await new Promise((res) => setTimeout(res, 200));
  }
  assert.ok(trace !== undefined, `trace ${traceId} not in Jaeger:\n${jaeger.output()}`);
  assert.equal(trace.spans.length, 5, JSON.stringify(trace.spans.map((s) => s.operationName)));
  const service = (s: JaegerTrace['spans'][number]): string => trace!.processes[s.processID]!.serviceName;
  const kind = (s: JaegerTrace['spans'][number]): unknown => tag(s.tags, 'span.kind');
  const find = (svc: string, k: string): JaegerTrace['spans'][number] => {
    const s = trace!.spans.find((x) => service(x) === svc && kind(x) === k);
    assert.ok(s !== undefined, `${svc} ${k} span: ${JSON.stringify(trace!.spans.map((x) => [service(x), kind(x)]))}`);
    return s;
  };
  const parent = (s: JaegerTrace['spans'][number]): string | undefined => s.references.find((x) => x.refType === 'CHILD_OF')?.spanID;
  const feServer = find('frontend.default', 'server');
  const feClient = find('frontend.default', 'client');
  const rvServer = find('reviews.default', 'server');
  const rvClient = find('reviews.default', 'client');
  const raServer = find('ratings.default', 'server');
  assert.equal(parent(feServer), undefined, 'the frontend server span is the root');
  assert.equal(parent(feClient), feServer.spanID);
  assert.equal(parent(rvServer), feClient.spanID);
  assert.equal(parent(rvClient), rvServer.spanID);
  assert.equal(parent(raServer), rvClient.spanID);
  assert.equal(feClient.operationName, 'reviews.default.svc.cluster.local:8080/*');
  assert.equal(rvClient.operationName, 'ratings.default.svc.cluster.local:8080/*');
  assert.equal(tag(rvClient.tags, 'upstream_cluster'), 'outbound|8080||ratings.default.svc.cluster.local');
  assert.equal(tag(rvClient.tags, 'http.status_code'), '200');
  assert.equal(tag(rvClient.tags, 'response_flags'), '-');
  assert.equal(tag(raServer.tags, 'istio.canonical_service'), 'ratings');
  assert.equal(tag(trace.processes[raServer.processID]!.tags, 'k8s.namespace.name'), 'default');
  // Jaeger lists the three services.
  const services = (await (await fetch(`${jaeger.query}/api/services`)).json()) as { data: string[] };
  for (const s of ['frontend.default', 'reviews.default', 'ratings.default']) assert.ok(services.data.includes(s), JSON.stringify(services.data));
});

test('a failing call is tagged with its code and flags in Jaeger', async () => {
  mesh.byService('ratings').status = 503;
  try {
    await callInbound(mesh.byService('frontend'), '/fail');
    const traceId = String(mesh.seen.get('frontend')?.traceparent).split('-')[1]!;
    let trace: JaegerTrace | undefined;
    for (let i = 0; i < 100 && (trace === undefined || trace.spans.length < 5); i++) {
      trace = await getTrace(jaeger.query, traceId);
      if (trace === undefined || trace.spans.length < 5) await new Promise((res) => setTimeout(res, 200));
    }
    const call = trace?.spans.find((s) => trace!.processes[s.processID]!.serviceName === 'reviews.default' && tag(s.tags, 'span.kind') === 'client');
    assert.equal(tag(call?.tags ?? [], 'http.status_code'), '503');
    assert.equal(tag(call?.tags ?? [], 'error'), true);
  } finally {
    mesh.byService('ratings').status = 200;
  }
});
