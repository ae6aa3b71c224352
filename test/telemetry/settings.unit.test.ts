import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveTelemetry, samplingFromProxyConfig } from '../../operator/translate/telemetry-settings.ts';

test('defaults: metrics on, access log off, 1% sampling, no exporter', () => {
  assert.deepEqual(effectiveTelemetry({}), { metrics: true, accessLog: false, tracing: { samplingPercent: 1 } });
});

test('mesh level: accessLogFile, sampling, OTLP endpoint, enableTracing false', () => {
  assert.deepEqual(effectiveTelemetry({ accessLogFile: '/dev/stdout', defaultConfig: { tracing: { sampling: 10 } }, meshlet: { otlpEndpoint: 'http://otel:4318' } }), { metrics: true, accessLog: true, tracing: { samplingPercent: 10, otlpEndpoint: 'http://otel:4318' } });
  assert.deepEqual(effectiveTelemetry({ enableTracing: false, meshlet: { otlpEndpoint: 'http://otel:4318' } }).tracing, { samplingPercent: 0 });
});

test('pod level overrides the mesh: Istio proxy.istio.io/config and meshlet annotations', () => {
  const mesh = { accessLogFile: '/dev/stdout', defaultConfig: { tracing: { sampling: 1 } } };
  assert.equal(effectiveTelemetry(mesh, { 'proxy.istio.io/config': '{"tracing":{"sampling":50}}' }).tracing.samplingPercent, 50);
  assert.equal(effectiveTelemetry(mesh, { 'proxy.istio.io/config': 'tracing:\n  sampling: 25\n' }).tracing.samplingPercent, 25);
  assert.equal(effectiveTelemetry(mesh, { 'proxy.istio.io/config': '{"tracing":{"sampling":50}}', 'telemetry.meshlet.io/sampling': '100' }).tracing.samplingPercent, 100);
  assert.equal(effectiveTelemetry(mesh, { 'telemetry.meshlet.io/access-log': 'false' }).accessLog, false);
  assert.equal(effectiveTelemetry({}, { 'telemetry.meshlet.io/access-log': 'true' }).accessLog, true);
  assert.equal(effectiveTelemetry({}, { 'telemetry.meshlet.io/sampling': '250' }).tracing.samplingPercent, 100);
  assert.equal(samplingFromProxyConfig('not: [valid'), undefined);
});

test("the chart's mesh.yaml shape (accessLog.enabled, tracing.endpoint/samplingPercent)", () => {
  assert.deepEqual(effectiveTelemetry({ accessLog: { enabled: true }, tracing: { endpoint: 'http://otel:4318/v1/traces', samplingPercent: 5 } }), { metrics: true, accessLog: true, tracing: { samplingPercent: 5, otlpEndpoint: 'http://otel:4318/v1/traces' } });
  assert.deepEqual(effectiveTelemetry({ tracing: { endpoint: '', samplingPercent: 1 } }).tracing, { samplingPercent: 1 });
});
