/**
 * The JWT rules of the RequestAuthentications that select one workload (root namespace:
 * mesh-wide; else the workload's namespace; the selector narrows), with Istio's default token
 * locations and the keys resolved: inline `jwks`, else the operator's fetched copy of
 * `jwksUri` (or of the issuer's OpenID discovery document) from the World. Pure.
 */
import type { JwtLocation, JwtRule, ProxyIdentity } from '../../common/snapshot.ts';
import type { World } from '../world/types.ts';
import type { IstioJwtRule } from './istio-types.ts';
import { labelsMatch } from '../world/workloads.ts';

/** Istio's default locations: `Authorization: Bearer <token>`, then `?access_token=`. */
const DEFAULT_LOCATIONS: JwtLocation[] = [{ header: { name: 'authorization', prefix: 'Bearer ' } }, { param: 'access_token' }];

/**
 * The URL whose keys a rule needs from the operator: its jwksUri, else (no inline jwks) the
 * issuer's OpenID discovery document, as istiod does; undefined when there is none to fetch.
 */
export function jwksSourceOf(rule: Pick<IstioJwtRule, 'jwks' | 'jwksUri' | 'jwks_uri' | 'issuer'>): string | undefined {
  if ((rule.jwks ?? '') !== '') return undefined;
  if ((rule.jwksUri ?? '') !== '') return rule.jwksUri;
  if ((rule.jwks_uri ?? '') !== '') return rule.jwks_uri;
  const iss = rule.issuer ?? '';
  return /^https?:\/\//.test(iss) ? `${iss.replace(/\/+$/, '')}/.well-known/openid-configuration` : undefined;
}

function locations(r: IstioJwtRule): JwtLocation[] {
  const out: JwtLocation[] = [];
  for (const h of r.fromHeaders ?? []) out.push({ header: { name: h.name.toLowerCase(), prefix: h.prefix ?? '' } });
  for (const p of r.fromParams ?? []) out.push({ param: p });
  for (const c of r.fromCookies ?? []) out.push({ cookie: c });
  return out.length === 0 ? DEFAULT_LOCATIONS.map((l) => ({ ...l })) : out;
}

function keys(world: World, r: IstioJwtRule): Pick<JwtRule, 'jwks' | 'jwksError'> {
  const inline = r.jwks ?? '';
  if (inline !== '') {
    try {
      const doc = JSON.parse(inline) as { keys?: unknown };
      if (Array.isArray(doc.keys)) return { jwks: { keys: doc.keys as Record<string, unknown>[] } };
    } catch {
      // reported below
    }
    return { jwksError: 'inline jwks is not a JSON Web Key Set' };
  }
  const src = jwksSourceOf(r);
  if (src === undefined) return { jwksError: 'no jwks, no jwksUri and the issuer is not a URL to discover keys from' };
  const got = world.jwks[src];
  if (got?.keys !== undefined) return { jwks: got.keys };
  return { jwksError: got?.error ?? `keys of ${src} not fetched yet` };
}

export function requestAuthentication(world: World, proxy: ProxyIdentity): JwtRule[] {
  const out: JwtRule[] = [];
  for (const ra of world.requestAuthentications) {
    const ns = ra.meta.namespace;
    if (ns !== world.rootNamespace && ns !== proxy.namespace) continue;
    const ml = ra.spec.selector?.matchLabels;
    if (ml !== undefined && !labelsMatch(ml, proxy.labels)) continue;
    for (const r of ra.spec.jwtRules ?? []) {
      const rule: JwtRule = {
        issuer: r.issuer ?? '',
        audiences: [...(r.audiences ?? [])],
        ...keys(world, r),
        locations: locations(r),
        forwardOriginalToken: r.forwardOriginalToken === true,
        ...(r.presence === 'REQUIRED' ? { required: true } : {}),
        outputClaimToHeaders: (r.outputClaimToHeaders ?? []).map((o) => ({ header: o.header, claim: o.claim })),
        spaceDelimitedClaims: [...(r.spaceDelimitedClaims ?? [])],
        provenance: { kind: 'RequestAuthentication', namespace: ns, name: ra.meta.name },
      };
      if ((r.outputPayloadToHeader ?? '') !== '') rule.outputPayloadToHeader = r.outputPayloadToHeader!;
      out.push(rule);
    }
  }
  return out;
}
