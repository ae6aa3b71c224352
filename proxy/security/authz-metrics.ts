/**
 * Counters for authorization outcomes, labelled by the deciding policy's provenance (never by
 * path or peer, to keep cardinality bounded), as Envoy's rbac filter counts `denied` and
 * `shadow_denied`. Pass `onDecision` to `authzFeature` and call it for TCP denials too.
 */
import { Counter, type Registry } from '../telemetry/prom-lite.ts';
import type { AuthzDecision } from './authz.ts';

export function registerAuthzMetrics(registry: Registry): (d: AuthzDecision) => void {
  const denied = new Counter({
    name: 'meshlet_rbac_denied_total',
    help: 'Requests and connections denied by AuthorizationPolicy, by deciding policy',
    labelNames: ['policy_namespace', 'policy_name', 'reason'],
    registers: [registry],
  });
  const audited = new Counter({
    name: 'meshlet_rbac_audited_total',
    help: 'Requests and connections matched by an AUDIT AuthorizationPolicy',
    labelNames: ['policy'],
    registers: [registry],
  });
  return (d) => {
    // `no-allow-match` has no single policy: the allow-list as a whole denied.
    if (!d.allowed) denied.inc({ policy_namespace: d.provenance?.namespace ?? '', policy_name: d.provenance?.name ?? '', reason: d.reason });
    for (const p of d.audited) audited.inc({ policy: p });
  };
}
