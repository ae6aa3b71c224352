/**
 * prom-client's Registry, Counter and Gauge without its index module: the index also loads
 * the Pushgateway (http/https), the cluster aggregator and the default metrics (perf_hooks
 * observers, the OpenTelemetry API), ~18 MB of RSS in a sidecar that needs none of them
 * (its process metrics are process-metrics.ts). Same classes, same module instances.
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry = load('prom-client/lib/registry') as typeof Prom.Registry;
export type Registry = Prom.Registry;
export const Counter = load('prom-client/lib/counter') as typeof Prom.Counter;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Gauge = load('prom-client/lib/gauge') as typeof Prom.Gauge;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
