import type { ErrorEntry } from './types.ts';

/** Codes of the security area: CA, certificate issuance, mTLS, authorization. */
export const securityErrors = [
  { code: 'MESHLET_SECURITY_RBAC_DENIED', status: 403, message: 'RBAC: access denied', hint: 'An AuthorizationPolicy denied the request; run `meshlet explain` on the destination workload to see which one.' },
  { code: 'MESHLET_SECURITY_UNAUTHENTICATED', status: 401, message: 'caller presented no valid service-account token or workload certificate', hint: 'Check the projected token (audience meshlet) is mounted, unexpired, and that the operator can call TokenReview.' },
  { code: 'MESHLET_SECURITY_FORBIDDEN', status: 403, message: 'caller asked for another identity\'s data', hint: 'A proxy may read only the config of its own namespace and service account.' },
  { code: 'MESHLET_SECURITY_BAD_CSR', status: 400, message: 'certificate signing request is not a valid PEM PKCS#10 request', hint: 'The proxy must send a PEM CSR signed with an ECDSA P-256 key.' },
  { code: 'MESHLET_SECURITY_CA_LOAD', status: 500, message: 'CA material could not be loaded', hint: 'A user-supplied CA Secret needs ca-cert.pem, ca-key.pem, root-cert.pem and cert-chain.pem (see docs/ARCHITECTURE.md).' },
  { code: 'MESHLET_SECURITY_ROOT_EXPIRING', status: 500, message: 'the mesh root certificate expires within 30 days', hint: 'Rotate the root: provide a new cacerts Secret, or delete meshlet-ca after planning the trust-anchor rollover.' },
  { code: 'MESHLET_SECURITY_CERT_FETCH', status: 503, message: 'workload certificate could not be obtained', hint: 'The proxy keeps its current certificate and retries; check the operator and the token.' },
  { code: 'MESHLET_SECURITY_PEER_IDENTITY', status: 502, message: 'upstream presented a certificate for a different identity', hint: 'The endpoint\'s SPIFFE ID does not match the expected service identity; check the endpoint\'s service account.' },
  { code: 'MESHLET_SECURITY_MTLS_REQUIRED', status: 403, message: 'plaintext connection refused: PeerAuthentication is STRICT', hint: 'Call this workload from a meshed pod, or set the PeerAuthentication to PERMISSIVE.' },
  { code: 'MESHLET_SECURITY_SESSION_EXPIRED', status: 403, message: 'resumed TLS session refused: a certificate that made it has expired', hint: 'The client reconnects with a full handshake; if that fails too, the certificate was not renewed (check the operator and MESHLET_SECURITY_CERT_FETCH logs).' },
  { code: 'MESHLET_SECURITY_JWT_INVALID', status: 401, message: 'Jwt verification fails', hint: 'The token\'s signature does not verify with the issuer\'s keys (or it is malformed); get a fresh token from the issuer named in the RequestAuthentication.' },
  { code: 'MESHLET_SECURITY_JWT_MISSING', status: 401, message: 'Jwt is missing', hint: 'A RequestAuthentication with presence: REQUIRED selects this workload: send a token (Authorization: Bearer <token> unless fromHeaders/fromParams say otherwise).' },
  { code: 'MESHLET_SECURITY_JWT_EXPIRED', status: 401, message: 'Jwt is expired', hint: 'Get a fresh token; meshlet allows 60 s of clock skew on exp and nbf.' },
  { code: 'MESHLET_SECURITY_JWT_AUDIENCE', status: 401, message: 'Audiences in Jwt are not allowed', hint: 'The token\'s aud holds none of the RequestAuthentication\'s audiences; request a token for one of them.' },
  { code: 'MESHLET_SECURITY_JWT_ISSUER', status: 401, message: 'Jwt issuer is not configured', hint: 'No RequestAuthentication selecting this workload names the token\'s iss; add a jwtRule for that issuer or send a token from a configured one.' },
  { code: 'MESHLET_SECURITY_JWT_NO_KEYS', status: 401, message: 'Jwks remote fetch is failed', hint: 'The operator could not fetch the jwksUri (see its MESHLET_OPERATOR_JWKS_FETCH log), so no token of that issuer can be verified.' },
  { code: 'MESHLET_SECURITY_JWT_NO_KEY_MATCH', status: 401, message: 'Jwks doesn\'t have key to match kid or alg from Jwt', hint: 'The token was signed by a key the issuer\'s JWKS does not publish (rotated?); the operator refreshes jwksUri keys periodically (--jwks-refresh).' },
  { code: 'MESHLET_SECURITY_UNSUPPORTED', status: 400, message: 'unsupported AuthorizationPolicy feature', hint: 'CUSTOM actions and unknown condition keys are not supported; the policy is not applied as written.' },
] as const satisfies readonly ErrorEntry[];
