/**
 * Access log: off by default; switched on per proxy by the snapshot, one JSON line per
 * request with Envoy's useful fields, written through pino's asynchronous destination.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { callInbound, startMesh, type Mesh } from './harness/mesh.ts';

let mesh: Mesh;
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  mesh = await startMesh([
    { service: 'frontend', version: 'v1', calls: ['reviews'] },
    { service: 'reviews', version: 'v1', calls: [], status: 503 },
  ], { metrics: true, accessLog: false, tracing: { samplingPercent: 100 } }, 31);
});
after(async () => mesh?.stop());

function entries(service: string): Record<string, unknown>[] {
  return mesh.byService(service).lines.filter((l) => l.startsWith('{') && l.includes('"response_code"')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('off by default: no access log lines', async () => {
  await callInbound(mesh.byService('frontend'), '/off');
  await sleep(200);
  assert.equal(entries('frontend').length, 0);
});

test('on per pod: Envoy fields, route provenance, request id, flags', async () => {
  await mesh.setTelemetry({ metrics: true, accessLog: true, tracing: { samplingPercent: 100 } });
  const r = await callInbound(mesh.byService('frontend'), '/orders?id=7', { 'x-request-id': 'req-abc-1', 'user-agent': 'tel-test', traceparent: `00-${TRACE}-0123456789abcdef-01` });
  assert.equal(r.status, 200);
  let fe: Record<string, unknown>[] = [];
  for (let i = 0; i < 50 && (fe = entries('frontend')).length < 2; i++) await sleep(100);
  assert.equal(fe.length, 2, 'one inbound and one outbound line');
  const inbound = fe.find((e) => e.direction === 'inbound')!;
  assert.equal(inbound.method, 'GET');
  assert.equal(inbound.path, '/orders?id=7');
  assert.equal(inbound.protocol, 'HTTP/1.1');
  assert.equal(inbound.response_code, 200);
  assert.equal(inbound.response_flags, '-');
  assert.equal(inbound.x_request_id, 'req-abc-1');
  assert.equal(inbound.user_agent, 'tel-test');
  assert.equal(inbound.upstream_cluster, 'inbound|8080||');
  assert.equal(inbound.route_provenance, 'Service/default/frontend');
  assert.match(String(inbound.start_time), /^\d{4}-\d\d-\d\dT/);
  assert.ok(typeof inbound.duration === 'number');
  assert.ok(typeof inbound.bytes_sent === 'number' && (inbound.bytes_sent as number) > 0);
  assert.equal(inbound.upstream_host, `${mesh.byService('frontend').appIp}:8080`);
  assert.equal(inbound.peer_principal, null, 'plaintext: no verified peer');
  const outbound = fe.find((e) => e.direction === 'outbound')!;
  assert.equal(outbound.response_code, 503);
  assert.equal(outbound.upstream_cluster, 'outbound|8080||reviews.default.svc.cluster.local');
  assert.equal(outbound.route_name, 'default');
  assert.equal(outbound.x_request_id, 'req-abc-1', 'the app forwarded it');
  assert.equal(outbound.trace_id, TRACE, 'trace id from the propagated context (no tracer configured)');
  assert.equal(inbound.trace_id, TRACE);
  let rv: Record<string, unknown>[] = [];
  for (let i = 0; i < 50 && (rv = entries('reviews')).length < 1; i++) await sleep(100);
  assert.equal(rv[0]?.response_code, 503);
  assert.equal(rv[0]?.trace_id, outbound.trace_id, 'the same trace id on both sides');
});

test('an upstream that refuses connections is logged with flag UF', async () => {
  const rv = mesh.byService('reviews');
  await new Promise<void>((r) => { rv.app.closeAllConnections(); rv.app.close(() => r()); });
  await callInbound(mesh.byService('frontend'), '/down');
  let line: Record<string, unknown> | undefined;
  for (let i = 0; i < 50 && line === undefined; i++) {
    line = entries('reviews').find((e) => e.path === '/down');
    if (line === undefined) await sleep(100);
  }
  assert.equal(line?.response_code, 503);
  assert.equal(line?.response_flags, 'UF');
  await new Promise<void>((r) => rv.app.listen(8080, rv.appIp, () => r()));
});
