/** Istio's RequestAuthentication rules (its validateJwtRule), with plain-words reasons. */
import type { Collector, Obj } from '../messages.ts';
import { at, idx, isObj, list, objAt, strAt } from '../messages.ts';
import { checkHeaderName, checkWorkloadSelector } from './values.ts';
import { checkTargetRef } from './security.ts';

/** Istio's ParseJwksURI: an http or https URL with a host. */
export function jwksUriProblem(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return `"${uri}" is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `URI scheme "${u.protocol.slice(0, -1)}" is not supported (use http or https)`;
  if (u.hostname === '') return `"${uri}" has no host`;
  return undefined;
}

/** A JSON Web Key Set: `{"keys": [{"kty": ...}, ...]}`; the reason when it is not one. */
export function jwksProblem(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return `jwks is not JSON: ${(err as Error).message}`;
  }
  if (!isObj(doc) || !Array.isArray(doc.keys)) return 'jwks must be a JSON object with a "keys" list';
  for (const [i, k] of doc.keys.entries()) {
    if (!isObj(k) || typeof k.kty !== 'string') return `jwks key at index ${i} has no "kty"`;
  }
  return undefined;
}

function privateKeyIndexes(text: string): number[] {
  try {
    const doc = JSON.parse(text) as { keys?: unknown };
    return list(doc.keys).flatMap((k, i) => (isObj(k) && (k.d !== undefined || k.kty === 'oct') ? [i] : []));
  } catch {
    return [];
  }
}

function checkJwtRule(r: Obj, path: string, c: Collector): void {
  list(r.audiences).forEach((a, i) => {
    if (a === '') c.error('MESHLET_CRD_RA_RULE', idx(at(path, 'audiences'), i), 'audience must not be empty');
  });
  const issuer = strAt(r.issuer) ?? '';
  const uri = strAt(r.jwksUri) ?? strAt(r.jwks_uri) ?? '';
  if (issuer === '' && uri === '') c.error('MESHLET_CRD_RA_RULE', at(path, 'issuer'), 'issuer is empty (set issuer, or at least jwksUri)');
  if (uri !== '') {
    const p = jwksUriProblem(uri);
    if (p !== undefined) c.error('MESHLET_CRD_RA_JWKS', at(path, strAt(r.jwksUri) === undefined ? 'jwks_uri' : 'jwksUri'), p);
  }
  const jwks = strAt(r.jwks) ?? '';
  if (jwks !== '') {
    const p = jwksProblem(jwks);
    if (p !== undefined) c.error('MESHLET_CRD_RA_JWKS', at(path, 'jwks'), p);
    for (const i of privateKeyIndexes(jwks)) c.warn('MESHLET_CRD_RA_PRIVATE_KEY', at(path, 'jwks'), `jwks key at index ${i} holds private key material; only public keys are needed to verify tokens`);
  }
  list(r.fromHeaders).forEach((h, i) => {
    if ((strAt(objAt(h)?.name) ?? '') === '') c.error('MESHLET_CRD_RA_RULE', at(idx(at(path, 'fromHeaders'), i), 'name'), 'header name is empty');
  });
  list(r.fromParams).forEach((p, i) => {
    if (p === '') c.error('MESHLET_CRD_RA_RULE', idx(at(path, 'fromParams'), i), 'query parameter name is empty');
  });
  list(r.spaceDelimitedClaims).forEach((p, i) => {
    if (p === '') c.error('MESHLET_CRD_RA_RULE', idx(at(path, 'spaceDelimitedClaims'), i), 'claim name is empty');
  });
  list(r.fromCookies).forEach((p, i) => {
    if (p === '') c.error('MESHLET_CRD_RA_RULE', idx(at(path, 'fromCookies'), i), 'cookie name is empty');
  });
  list(r.outputClaimToHeaders).forEach((o, i) => {
    const op = idx(at(path, 'outputClaimToHeaders'), i);
    const h = strAt(objAt(o)?.header) ?? '';
    const claim = strAt(objAt(o)?.claim) ?? '';
    if (h === '' || claim === '') return c.error('MESHLET_CRD_RA_RULE', op, `${h === '' ? 'header' : 'claim'} is empty (outputClaimToHeaders needs both header and claim)`);
    checkHeaderName(h, at(op, 'header'), c, false);
  });
  const out = strAt(r.outputPayloadToHeader) ?? '';
  if (out !== '') checkHeaderName(out, at(path, 'outputPayloadToHeader'), c, false);
}

export function checkRequestAuthentication(spec: Obj, c: Collector): void {
  checkWorkloadSelector(spec.selector, 'spec.selector', c);
  checkTargetRef(spec.targetRef, 'spec.targetRef', c);
  list(spec.targetRefs).forEach((t, i) => checkTargetRef(t, idx('spec.targetRefs', i), c));
  list(spec.jwtRules).forEach((r, i) => {
    if (isObj(r)) checkJwtRule(r, idx('spec.jwtRules', i), c);
    else if (r === null) c.error('MESHLET_CRD_RA_RULE', idx('spec.jwtRules', i), 'jwtRule is empty (null): it needs at least an issuer');
  });
}
