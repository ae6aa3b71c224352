// The Grafana dashboards query what meshlet exports: every istio_* metric and label in the
// mesh dashboard is one the proxy defines, every pilot_*/meshlet_* metric in the control-plane
// dashboard one the operator or injector defines (the cluster test also reads a live
// operator's /metrics). A renamed metric shows up here, not as an empty panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HTTP_LABELS, TCP_LABELS } from '../../proxy/telemetry/metrics-labels.ts';
import { dashboard, exprs, metricNames } from './dashboards.ts';
import { ROOT } from './helm.ts';

/** Label names used in `by (...)` clauses and `{label=...}` matchers. */
function labelNames(list: string[]): string[] {
  const out = new Set<string>();
  for (const e of list) {
    for (const m of e.matchAll(/by \(([^)]*)\)/g)) for (const l of (m[1] as string).split(',')) out.add(l.trim());
    for (const m of e.matchAll(/[{,]\s*([a-z_]+)\s*(=~|!~|!=|=)/g)) out.add(m[1] as string);
  }
  out.delete('le');
  return [...out].sort();
}

function sourceText(...dirs: string[]): string {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts')) out.push(readFileSync(p, 'utf8'));
    }
  };
  for (const d of dirs) walk(join(ROOT, d));
  return out.join('\n');
}

test('mesh dashboard: Istio metric and label names the proxy exports', () => {
  const list = exprs(dashboard('mesh.json'));
  const proxy = sourceText('proxy');
  const metrics = metricNames(list, /^istio_/);
  assert.deepEqual(metrics, ['istio_request_duration_milliseconds', 'istio_requests_total', 'istio_tcp_received_bytes_total', 'istio_tcp_sent_bytes_total']);
  for (const m of metrics) assert.ok(proxy.includes(`'${m}'`), `the proxy defines ${m}`);
  const known = new Set<string>([...HTTP_LABELS, ...TCP_LABELS]);
  for (const l of labelNames(list)) assert.ok(known.has(l), `label ${l} is one the proxy sets`);
  assert.ok(list.includes('histogram_quantile(0.99, rate(istio_request_duration_milliseconds_bucket[5m]))'));
  assert.ok(list.some((e) => /^sum\(rate\(istio_requests_total\{[^}]*\}\[5m\]\)\) by \(destination_service\)$/.test(e)));
});

test('control-plane dashboard: metric names the operator and injector define', () => {
  const list = exprs(dashboard('control-plane.json'));
  const code = sourceText('operator', 'webhook');
  const metrics = metricNames(list, /^(pilot_|meshlet_)/);
  assert.ok(metrics.includes('pilot_xds') && metrics.includes('pilot_xds_pushes'));
  for (const m of metrics) assert.ok(code.includes(`'${m}'`), `operator/ or webhook/ defines ${m}`);
});

test('dashboards have unique uids and panel ids', () => {
  const ds = ['mesh.json', 'control-plane.json'].map(dashboard);
  assert.equal(new Set(ds.map((d) => d.uid)).size, ds.length);
  for (const d of ds) {
    const ids = d.panels.map((p) => (p as unknown as { id: number }).id);
    assert.equal(new Set(ids).size, ids.length, d.uid);
  }
});
