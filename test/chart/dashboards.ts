// The chart's Grafana dashboards as data: their PromQL and the metric names it uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART } from './helm.ts';

export interface Dashboard {
  uid: string;
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
}

export function dashboard(name: string): Dashboard {
  return JSON.parse(readFileSync(join(CHART, 'files', 'dashboards', name), 'utf8')) as Dashboard;
}

export function exprs(d: Dashboard): string[] {
  return d.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

/** Metric names in PromQL expressions with the given prefixes (histogram suffixes removed). */
export function metricNames(list: string[], prefix: RegExp): string[] {
  const names = list.flatMap((e) => [...e.matchAll(/\b[a-z_][a-z0-9_]*\b/g)].map((m) => m[0])).filter((n) => prefix.test(n));
  return [...new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, '')))].sort();
}

