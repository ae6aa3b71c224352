/**
 * A real Prometheus scrapes real proxies carrying real traffic; the seed's PromQL returns
 * what the traffic implies. TCP over mutual TLS goes through a real TLS relay that uses the
 * proxy's TCP metric binding (the proxy core's TCP path does not call it yet).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type TLSSocket, type Server } from 'node:tls';
import { callInbound, startMesh, type Mesh } from './harness/mesh.ts';
import { startPrometheus, freePort, type Prometheus } from './harness/prometheus.ts';
import { ProxyTelemetry } from '../../proxy/telemetry/telemetry.ts';
import { startStatsServer } from '../../proxy/telemetry/metrics-server.ts';
import { snapshotFor } from './harness/mesh.ts';
import { issue, tempDir, testCa } from '../security/helpers.ts';
import type { Cluster } from '../../common/snapshot.ts';
import { graphFrom } from '../../operator/ui/plugin.ts';

let mesh: Mesh;
let prom: Prometheus;
let relay: Server;
let relayStats: { port: number; close: () => Promise<void> };
let caDir: { dir: string; cleanup: () => void };
const N = 15;
const TCP = 4;

async function traffic(n: number): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal((await callInbound(mesh.byService('frontend'), '/')).status, 200);
}

before(async () => {
  mesh = await startMesh([
    { service: 'frontend', version: 'v1', calls: ['reviews', 'ratings'] },
    { service: 'reviews', version: 'v2', calls: [] },
    { service: 'ratings', version: 'v1', calls: [], status: 503 },
  ], { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } }, 11);

  // An mTLS TCP server side (destination reporter) counting with the proxy's TCP binding.
  caDir = tempDir('tel-ca');
  const ca = await testCa(caDir.dir);
  const server = await issue(ca, 'default', 'db');
  const client = await issue(ca, 'default', 'frontend');
  const t = new ProxyTelemetry({ metrics: { processMetrics: false } });
  const snap = snapshotFor({ service: 'db', version: 'v1', calls: [] }, [], 20, { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } });
  t.apply(snap);
  const inboundCluster: Cluster = { ...JSON.parse(JSON.stringify(snap.clusters[0] ?? {})), name: 'inbound|5432||', service: 'inbound|5432||', port: 5432, protocol: 'tcp', provenance: { kind: 'Service', namespace: 'default', name: 'db' } };
  relay = createServer({ key: server.keyPem, cert: server.certChainPem, ca: server.rootCertPem, requestCert: true, rejectUnauthorized: true }, (s: TLSSocket) => {
    t.tcpConnection(s, inboundCluster, []);
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
  });
  const relayPort = await freePort('127.0.12.40');
  await new Promise<void>((r) => relay.listen(relayPort, '127.0.12.40', () => r()));
  relayStats = await startStatsServer(t.metrics, { host: '127.0.12.40', port: 0 });
  for (let i = 0; i < TCP; i++) {
    await new Promise<void>((resolve, reject) => {
      const c = connect({ host: '127.0.12.40', port: relayPort, key: client.keyPem, cert: client.certChainPem, ca: client.rootCertPem, checkServerIdentity: () => undefined }, () => c.end('ping'));
      c.on('data', () => undefined);
      c.on('close', () => resolve());
      c.on('error', reject);
    });
  }

  prom = await startPrometheus([...mesh.workloads.map((w) => `${w.proxyIp}:${w.statsPort}`), `127.0.12.40:${relayStats.port}`]);
  // Traffic on both sides of a few scrapes, so rate() sees the counters move.
  await traffic(5);
  await prom.until('sum(istio_requests_total)', (r) => r[0]?.value === 25);
  await traffic(N - 5);
});

after(async () => {
  await prom?.stop();
  await mesh?.stop();
  relay?.close();
  await relayStats?.close();
  caDir?.cleanup();
});

test('sum(istio_requests_total) counts every request at both reporters', async () => {
  // Per frontend request: frontend inbound (destination), frontend→reviews and frontend→ratings
  // (source), reviews and ratings inbound (destination) = 5 samples.
  const r = await prom.until('sum(istio_requests_total)', (x) => x[0]?.value === 5 * N);
  assert.equal(r[0]?.value, 5 * N);
  const src = await prom.query('sum(istio_requests_total{reporter="source"})');
  assert.equal(src[0]?.value, 2 * N);
});

test('5xx rate is > 0 only for the failing service', async () => {
  const r = await prom.until('rate(istio_requests_total{response_code=~"5.."}[1m])', (x) => x.length === 2 && x.every((s) => s.value > 0));
  assert.equal(r.length, 2, 'one series per reporter');
  for (const s of r) {
    assert.equal(s.metric.destination_service, 'ratings.default.svc.cluster.local');
    assert.equal(s.metric.response_code, '503');
    assert.ok(s.value > 0);
  }
  const ok = await prom.query('sum(rate(istio_requests_total{response_code=~"5..", destination_service_name!="ratings"}[1m]))');
  assert.equal(ok.length, 0, 'no 5xx series for any other service');
});

test('sum by destination_service splits the traffic', async () => {
  const r = await prom.until('sum(istio_requests_total) by (destination_service)', (x) => x.reduce((a, s) => a + s.value, 0) === 5 * N);
  const by = Object.fromEntries(r.map((s) => [s.metric.destination_service, s.value]));
  assert.deepEqual(by, { 'frontend.default.svc.cluster.local': N, 'reviews.default.svc.cluster.local': 2 * N, 'ratings.default.svc.cluster.local': 2 * N });
  const rate = await prom.query('sum(rate(istio_requests_total[1m])) by (destination_service)');
  assert.equal(rate.length, 3);
});

test("the seed's p99 query and the sidecar-added latency query return values", async () => {
  const p99 = await prom.until('histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket[1m])) by (le, destination_service))', (x) => x.length === 3);
  assert.equal(p99.length, 3);
  for (const s of p99) assert.ok(Number.isFinite(s.value) && s.value >= 0, `p99 ${s.value}`);
  const up = await prom.query('histogram_quantile(0.99, sum(rate(envoy_cluster_upstream_rq_time_bucket[1m])) by (le, cluster_name))');
  assert.ok(up.length >= 2);
});

test('mTLS TCP connections: both the seed label (security_policy) and Istio\'s (connection_security_policy)', async () => {
  const seed = await prom.until('istio_tcp_connections_opened_total{security_policy="mutual_tls"}', (x) => x[0]?.value === TCP);
  assert.equal(seed.length, 1);
  assert.equal(seed[0]!.value, TCP);
  assert.equal(seed[0]!.metric.source_principal, 'spiffe://cluster.local/ns/default/sa/frontend');
  assert.equal(seed[0]!.metric.destination_service_name, 'db');
  const istio = await prom.query('istio_tcp_connections_opened_total{connection_security_policy="mutual_tls"}');
  assert.equal(istio[0]?.value, TCP);
  const closed = await prom.until('sum(istio_tcp_connections_closed_total)', (x) => x[0]?.value === TCP);
  assert.equal(closed[0]?.value, TCP);
  const bytes = await prom.query('sum(istio_tcp_received_bytes_total)');
  assert.equal(bytes[0]?.value, TCP * 'ping'.length);
});

test('the service graph from Prometheus: calls between apps, failing edge, mTLS, chart points', async () => {
  const g = await graphFrom({ prometheusUrl: prom.url, promWindow: '1m' }, undefined);
  assert.equal(g.source, 'prometheus');
  assert.deepEqual(g.errors, []);
  const edge = (s: string, t: string) => g.edges.find((e) => e.source === s && e.target === t);
  assert.equal(edge('app:default/frontend', 'app:default/ratings')?.health, 'failing');
  assert.equal(edge('app:default/frontend', 'app:default/reviews')?.health, 'healthy');
  assert.deepEqual(g.nodes.find((n) => n.id === 'app:default/reviews')?.versions.map((v) => v.version), ['v2']);
  assert.ok((edge('unknown', 'app:default/frontend')?.rps ?? 0) > 0);
  const db = edge('unknown', 'app:default/db');
  assert.equal(db?.tcp, true, 'TCP services are edges too');
  assert.equal(db?.mtls, 'full', 'mTLS from connection_security_policy');
  assert.equal(edge('app:default/frontend', 'app:default/reviews')?.mtls, 'none');
  // Chart points from query_range: at least one interval of the window has the failing call.
  const points = g.series?.edges['app:default/frontend>app:default/ratings'] ?? [];
  assert.ok(points.length >= 1, JSON.stringify(g.series));
  assert.ok(points.some((p) => p.rps > 0 && p.successRate < 0.5));
  const bad = await graphFrom({ prometheusUrl: 'http://127.0.0.1:1' }, undefined);
  assert.equal(bad.errors[0]?.code, 'MESHLET_TELEMETRY_PROMETHEUS_QUERY');
});
