/**
 * What meshlet cannot enforce as written in an AuthorizationPolicy, for status
 * `validationMessages` and `meshlet analyze` (pure). CUSTOM is never silently ignored, and
 * JWT attributes (request.auth.*, requestPrincipals) are flagged until JWT is supported.
 */

export interface AuthzFinding {
  code: 'MESHLET_SECURITY_UNSUPPORTED';
  level: 'Error' | 'Warning';
  path: string;
  message: string;
}

/** Condition keys the proxy evaluates (request.headers[...] is matched by pattern). */
export const SUPPORTED_CONDITION_KEYS = new Set(['source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'source.trustDomain', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'destination.port', 'connection.sni']);

interface SpecLike {
  action?: string;
  rules?: { when?: { key: string }[] }[];
}

export function authorizationPolicyFindings(spec: SpecLike): AuthzFinding[] {
  const out: AuthzFinding[] = [];
  if (spec.action === 'CUSTOM') {
    out.push({ code: 'MESHLET_SECURITY_UNSUPPORTED', level: 'Error', path: 'spec.action', message: 'action CUSTOM (external authorization) is not supported: the policy is not enforced' });
  }
  (spec.rules ?? []).forEach((rule, i) => {
    (rule.when ?? []).forEach((c, j) => {
      if (SUPPORTED_CONDITION_KEYS.has(c.key) || /^request\.headers\[.+\]$/.test(c.key) || /^request\.auth\.claims(\[[^[\]]+\])+$/.test(c.key)) return;
      out.push({ code: 'MESHLET_SECURITY_UNSUPPORTED', level: 'Warning', path: `spec.rules[${i}].when[${j}].key`, message: `condition key ${c.key} is not supported: it never has a value` });
    });
  });
  return out;
}
