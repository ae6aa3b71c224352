/** Metrics of the CRD validating webhook, registered on the registry the process serves. */
import { Counter, type Registry } from 'prom-client';

export type ValidationResult = 'allowed' | 'allowed_with_warnings' | 'denied' | 'malformed';

export interface ValidationMetrics {
  /** One admission review answered; `codes` are the error codes of a denial (each counted once). */
  review(kind: string, result: ValidationResult, codes?: readonly string[]): void;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  const existing = registry.getSingleMetric(name) as Counter<L> | undefined;
  return existing ?? new Counter({ name, help, labelNames, registers: [registry] });
}

export function createValidationMetrics(registry: Registry): ValidationMetrics {
  const reviews = counter(registry, 'meshlet_crd_validation_total', 'Istio objects reviewed by the validating webhook, by kind and outcome', ['kind', 'result'] as const);
  const errors = counter(registry, 'meshlet_crd_validation_errors_total', 'Validation error codes in webhook denials (one per code per review)', ['code'] as const);
  return {
    review(kind, result, codes = []) {
      reviews.inc({ kind, result });
      for (const code of new Set(codes)) errors.inc({ code });
    },
  };
}
