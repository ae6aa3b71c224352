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
  /** Trust domains of the peer principal (its part before `/ns/`). */
  trustDomains?: string[];
  notTrustDomains?: string[];
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

/** Where a token is looked for: a header (with a prefix stripped), a query parameter or a cookie. */
export interface JwtLocation {
  header?: { name: string; prefix: string };
  param?: string;
  cookie?: string;
}

/**
 * One `jwtRules` entry of the RequestAuthentications that select this workload, with its keys
 * resolved by the operator (inline `jwks`, or `jwksUri` fetched and cached by the operator),
 * so the proxy needs no egress to the issuer.
 */
export interface JwtRule {
  /** `iss` the token must carry (empty: any issuer, only with jwksUri). */
  issuer: string;
  /** Accepted `aud` values; empty accepts any audience. */
  audiences: string[];
  /** The public keys (a JSON Web Key Set); absent when they could not be had (`jwksError` says why): every token of this issuer is then refused. */
  jwks?: { keys: Record<string, unknown>[] };
  jwksError?: string;
  /** Where the token is looked for, in order (Istio's defaults already applied). */
  locations: JwtLocation[];
  /** presence REQUIRED: a request with no token at all is refused (401 "Jwt is missing"). */
  required?: boolean;
  /** Keep the header that carried the token (default: removed once verified). */
  forwardOriginalToken: boolean;
  /** Header that receives the verified payload (base64url JSON). */
  outputPayloadToHeader?: string;
  /** Claims copied into headers once verified; `claim` may be nested with `.`. */
  outputClaimToHeaders: { header: string; claim: string }[];
  /** Claims whose string value is a space-separated list (`scope`, `permission` are always). */
  spaceDelimitedClaims: string[];
  provenance: Provenance;
}
