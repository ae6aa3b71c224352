/**
 * Control-plane telemetry the mesh dashboards need: the operator's push metrics (Istio's
 * pilot_* names), the injector's decisions, the CA's. Checks the metric families each part
 * registers. That one `meshlet operator` process serves them all on 15014 is tested against
 * a real apiserver in test/integration/operator-cluster.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createOperatorMetrics } from '../../operator/metrics.ts';
import { createInjectionMetrics } from '../../webhook/metrics.ts';
import { createCertMetrics } from '../../operator/compose/cert-metrics.ts';

test('operator: pushes, push time, convergence, connected proxies, NACKs', () => {
  const m = createOperatorMetrics();
  const names = new Set(m.registry.getMetricsAsArray().map((x) => x.name));
  for (const n of ['pilot_xds_pushes', 'pilot_xds_push_time', 'pilot_proxy_convergence_time', 'pilot_xds', 'pilot_total_xds_rejects']) assert.ok(names.has(n), n);
});

test('webhook: injection decisions with result and reason', async () => {
  const r = new Registry();
  createInjectionMetrics(r);
  const j = await r.getMetricsAsJSON();
  assert.ok(j.some((x) => x.name === 'meshlet_sidecar_injection_total'));
});

test('CA: CSRs, certificates issued, signing errors and authentication failures, with Istio\'s citadel names', async () => {
  const r = new Registry();
  createCertMetrics(r);
  const names = new Set((await r.getMetricsAsJSON()).map((x) => x.name));
  for (const n of ['citadel_server_csr_count', 'citadel_server_success_cert_issuance_count', 'citadel_server_csr_sign_err_count', 'citadel_server_authentication_failure_count']) assert.ok(names.has(n), n);
});
