/**
 * What the JWT step does to a request once the outcome is known: on success the header that
 * carried the token is dropped (unless forwardOriginalToken) and the payload and claims are
 * copied into headers; on failure the 401 Envoy answers, with `www-authenticate`.
 */
import type { ProxyFailure, RequestContext } from '../chain/types.ts';
import { withoutHeader } from '../http/headers.ts';
import { claimHeaderValue, type JwtOutcome } from './jwt.ts';

export function jwtApplied(ctx: RequestContext, o: Extract<JwtOutcome, { kind: 'ok' }>): void {
  const rule = o.rule;
  const carrier = o.location.header?.name.toLowerCase();
  if (!rule.forwardOriginalToken && carrier !== undefined && ctx.headers[carrier] !== undefined) ctx.headers = withoutHeader(ctx.headers, carrier);
  if (rule.outputPayloadToHeader !== undefined) ctx.headers[rule.outputPayloadToHeader.toLowerCase()] = o.payload;
  for (const { header, claim } of rule.outputClaimToHeaders) {
    const v = claimHeaderValue(o.auth.claims, claim);
    if (v !== undefined) ctx.headers[header.toLowerCase()] = v;
  }
}

export function jwtFailure(ctx: RequestContext, o: Extract<JwtOutcome, { kind: 'fail' }>): ProxyFailure {
  const realm = `${ctx.attrs.scheme}://${ctx.attrs.authority}${ctx.attrs.path}`.replace(/["\\]/g, '');
  // No Envoy response flag exists for a JWT refusal; the catalog code says which check failed.
  return { flag: '', code: o.code, status: 401, headers: { 'www-authenticate': `Bearer realm="${realm}", error="invalid_token"` } };
}
