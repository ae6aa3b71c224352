/**
 * Every metric and label the chart's mesh dashboard queries is one the proxy exports
 * (dashboards users already have must work unchanged).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HTTP_LABELS, TCP_LABELS } from '../../proxy/telemetry/metrics-labels.ts';
import { createMeshMetrics } from '../../proxy/telemetry/metrics-registry.ts';

function exprs(o: unknown, out: string[] = []): string[] {
  if (Array.isArray(o)) for (const x of o) exprs(x, out);
  else if (typeof o === 'object' && o !== null) for (const [k, v] of Object.entries(o)) if (k === 'expr' && typeof v === 'string') out.push(v); else exprs(v, out);
  return out;
}

test('the mesh dashboard only uses exported metric and label names', () => {
  const dash = JSON.parse(readFileSync(new URL('../../charts/meshlet/files/dashboards/mesh.json', import.meta.url), 'utf8')) as unknown;
  const m = createMeshMetrics({ processMetrics: false });
  const names = new Set(m.registry.getMetricsAsArray().map((x) => x.name));
  const labels = new Set<string>([...HTTP_LABELS, ...TCP_LABELS, 'le']);
  const all = exprs(dash);
  assert.ok(all.length > 5);
  for (const e of all) {
    for (const [, metric] of e.matchAll(/\b((?:istio|envoy)_[a-z_]+)/g)) assert.ok(names.has(metric!.replace(/_(bucket|sum|count)$/, '')), `${metric} in ${e}`);
    for (const [, sel] of e.matchAll(/\{([^}]*)\}/g)) for (const [, l] of sel!.matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)) assert.ok(labels.has(l!), `label ${l} in ${e}`);
    for (const [, by] of e.matchAll(/by \(([^)]*)\)/g)) for (const l of by!.split(',').map((x) => x.trim())) assert.ok(labels.has(l), `by ${l} in ${e}`);
  }
});
