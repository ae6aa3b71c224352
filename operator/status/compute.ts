/**
 * The status meshlet wants on a mesh object (DESIGN.md §5): observedGeneration, an
 * Accepted condition (False with the first error's code, path and message), a `Stale`
 * condition when proxies are not getting the latest version (its last good version, or a
 * fail-closed stand-in) and the warnings as validationMessages. Pure; lastTransitionTime
 * is kept while a condition holds.
 */
import type { ValidationMessage } from '../store/validate.ts';
import type { Serving } from '../store/store.ts';

/** What proxies get of the object instead of its latest version, when that is invalid. */
export interface ServedInfo {
  serving: Serving;
  /** Generation of the version served when it is stale. */
  servedGeneration?: number;
}

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

/** Why the latest version is not what proxies get, in words, or undefined when it is. */
export function staleCondition(served: ServedInfo | undefined): { code: string; message: string } | undefined {
  if (served?.serving === 'stale') {
    const gen = served.servedGeneration === undefined ? 'its last good version' : `its last good version (generation ${served.servedGeneration})`;
    return { code: 'MESHLET_OPERATOR_OBJECT_STALE', message: `MESHLET_OPERATOR_OBJECT_STALE: the latest version is invalid; proxies keep ${gen}` };
  }
  if (served?.serving === 'fail-closed') {
    return { code: 'MESHLET_OPERATOR_FAIL_CLOSED', message: 'MESHLET_OPERATOR_FAIL_CLOSED: no valid version exists; the workloads it selects fail closed (AuthorizationPolicy: deny all; PeerAuthentication: STRICT)' };
  }
  return undefined;
}

export function desiredStatus(generation: number, messages: ValidationMessage[], current: unknown, now: string, served?: ServedInfo): MeshStatus {
  const errors = messages.filter((m) => m.level === 'error');
  const first = errors[0];
  const status: 'True' | 'False' = first === undefined ? 'True' : 'False';
  const reason = first === undefined ? 'Accepted' : reasonOf(first.code);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  const message = first === undefined ? 'accepted: applied to the proxies it selects' : `${first.code}: ${first.path}: ${first.message}${more}`;
  const prevConds = (current as { conditions?: Condition[] } | undefined)?.conditions ?? [];
  const since = (type: string, st: 'True' | 'False'): string => {
    const prev = prevConds.find((c) => c.type === type);
    return prev !== undefined && prev.status === st && typeof prev.lastTransitionTime === 'string' ? prev.lastTransitionTime : now;
  };
  const conditions: Condition[] = [{ type: 'Accepted', status, reason, message, lastTransitionTime: since('Accepted', status), observedGeneration: generation }];
  const stale = staleCondition(served);
  if (stale !== undefined) conditions.push({ type: 'Stale', status: 'True', reason: reasonOf(stale.code), message: stale.message, lastTransitionTime: since('Stale', 'True'), observedGeneration: generation });
  return {
    observedGeneration: generation,
    conditions,
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
