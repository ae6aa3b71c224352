/** ProxySnapshot, inbound security: effective PeerAuthentication and compiled AuthorizationPolicies. */
import type { Provenance } from './base.ts';

export const MTLS_MODES = ['STRICT', 'PERMISSIVE', 'DISABLE'] as const;
export type MtlsMode = (typeof MTLS_MODES)[number];
export const AUTHZ_ACTIONS = ['ALLOW', 'DENY', 'AUDIT'] as const;

/** Effective PeerAuthentication for this workload (most specific already resolved). */
export interface PeerAuthenticationSettings {
  /** Mode for every port not listed in `ports`. */
  mode: MtlsMode;
  /** Port-level overrides (app ports). */
  ports: Record<string, MtlsMode>;
  provenance: Provenance;
}

/** Istio AuthorizationPolicy Source, with serviceAccounts already turned into principals. */
export interface AuthzSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

/** Istio AuthorizationPolicy Operation. */
export interface AuthzOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

/** Istio AuthorizationPolicy Condition (`when`). */
export interface AuthzCondition {
  /** Attribute, e.g. `source.ip`, `request.headers[x-token]`. */
  key: string;
  values?: string[];
  notValues?: string[];
}

/** One rule: from (any) AND to (any) AND when (all). */
export interface AuthzRule {
  from: AuthzSource[];
  to: AuthzOperation[];
  when: AuthzCondition[];
}

/** One AuthorizationPolicy that selects this workload. */
export interface AuthzPolicy {
  /** `<namespace>/<name>`. */
  name: string;
  /** ALLOW, DENY or AUDIT (CUSTOM is refused at translation). */
  action: (typeof AUTHZ_ACTIONS)[number];
  /** Rules; an empty list matches nothing for ALLOW (allow-nothing) and DENY. */
  rules: AuthzRule[];
  provenance: Provenance;
}
