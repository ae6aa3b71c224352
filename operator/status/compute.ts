/**
 * The status meshlet wants on a mesh object (DESIGN.md §5): observedGeneration, an
 * Accepted condition (False with the first error's code, path and message) and the
 * warnings as validationMessages. Pure; lastTransitionTime is kept while status holds.
 */
import type { ValidationMessage } from '../store/validate.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface MeshStatus {
  observedGeneration: number;
  conditions: Condition[];
  validationMessages: ValidationMessage[];
}

/** Condition reasons must be CamelCase in Kubernetes; codes go into the message. */
function reasonOf(code: string): string {
  return code
    .replace(/^MESHLET_/, '')
    .toLowerCase()
    .split('_')
    .map((w) => (w === '' ? '' : (w[0] as string).toUpperCase() + w.slice(1)))
    .join('');
}

export function desiredStatus(generation: number, messages: ValidationMessage[], current: unknown, now: string): MeshStatus {
  const errors = messages.filter((m) => m.level === 'error');
  const first = errors[0];
  const status: 'True' | 'False' = first === undefined ? 'True' : 'False';
  const reason = first === undefined ? 'Accepted' : reasonOf(first.code);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  const message = first === undefined ? 'accepted: applied to the proxies it selects' : `${first.code}: ${first.path}: ${first.message}${more}`;
  const prev = ((current as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Accepted');
  const lastTransitionTime = prev !== undefined && prev.status === status && typeof prev.lastTransitionTime === 'string' ? prev.lastTransitionTime : now;
  return {
    observedGeneration: generation,
    conditions: [{ type: 'Accepted', status, reason, message, lastTransitionTime, observedGeneration: generation }],
    validationMessages: messages.filter((m) => m.level === 'warning').map((m) => ({ code: m.code, level: m.level, path: m.path, message: m.message })),
  };
}

/** Same status apart from timestamps? Then nothing is written. */
export function sameStatus(a: unknown, b: MeshStatus): boolean {
  const strip = (s: unknown): string => JSON.stringify(s, (k, v: unknown) => (k === 'lastTransitionTime' ? undefined : v));
  const cur = a as Partial<MeshStatus> | undefined;
  if (cur === undefined || cur === null) return false;
  return strip({ o: cur.observedGeneration, c: cur.conditions ?? [], v: cur.validationMessages ?? [] }) === strip({ o: b.observedGeneration, c: b.conditions, v: b.validationMessages });
}
