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
export const SUPPORTED_CONDITION_KEYS = new Set(['source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port', 'connection.sni']);

interface SpecLike {
  action?: string;
  rules?: { from?: { source?: { requestPrincipals?: string[]; notRequestPrincipals?: string[] } }[]; when?: { key: string }[] }[];
}

export function authorizationPolicyFindings(spec: SpecLike): AuthzFinding[] {
  const out: AuthzFinding[] = [];
  if (spec.action === 'CUSTOM') {
    out.push({ code: 'MESHLET_SECURITY_UNSUPPORTED', level: 'Error', path: 'spec.action', message: 'action CUSTOM (external authorization) is not supported: the policy is not enforced' });
  }
  (spec.rules ?? []).forEach((rule, i) => {
    (rule.from ?? []).forEach((f, j) => {
      for (const k of ['requestPrincipals', 'notRequestPrincipals'] as const) {
        if ((f.source?.[k]?.length ?? 0) > 0) {
          out.push({ code: 'MESHLET_SECURITY_UNSUPPORTED', level: 'Warning', path: `spec.rules[${i}].from[${j}].source.${k}`, message: `${k} needs JWT (RequestAuthentication), not supported yet: requests never carry a request principal` });
        }
      }
    });
    (rule.when ?? []).forEach((c, j) => {
      if (SUPPORTED_CONDITION_KEYS.has(c.key) || /^request\.headers\[.+\]$/.test(c.key)) return;
      const jwt = c.key.startsWith('request.auth.');
      out.push({ code: 'MESHLET_SECURITY_UNSUPPORTED', level: 'Warning', path: `spec.rules[${i}].when[${j}].key`, message: jwt ? `${c.key} needs JWT, not supported yet: the condition never has a value` : `condition key ${c.key} is not supported: it never has a value` });
    });
  });
  return out;
}
