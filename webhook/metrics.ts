/** The injector's Prometheus metrics, registered on the registry the process serves. */
import { Counter, type Registry } from 'prom-client';

export type InjectionResult = 'injected' | 'skipped' | 'denied' | 'error';

export interface InjectionMetrics {
  count(result: InjectionResult, reason: string): void;
}

export function createInjectionMetrics(registry: Registry): InjectionMetrics {
  const existing = registry.getSingleMetric('meshlet_sidecar_injection_total');
  const counter = (existing as Counter<'result' | 'reason'> | undefined) ?? new Counter({
    name: 'meshlet_sidecar_injection_total',
    help: 'Pods seen by the sidecar injector, by outcome and reason code',
    labelNames: ['result', 'reason'] as const,
    registers: [registry],
  });
  return { count: (result, reason) => counter.inc({ result, reason }) };
}
