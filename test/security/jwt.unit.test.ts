/**
 * The JWT step and JWT-based authorization as pure functions (jwt.ts, authz.ts) on an
 * injected clock: tokens signed by keys generated here, valid and broken in each way a
 * client can break them; principals, audiences, presenter and (nested, list, space-delimited)
 * claims in AuthorizationPolicy.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthzPolicy, AuthzRule, JwtRule } from '../../common/snapshot.ts';
import { compileJwt, type JwtOutcome, type JwtSource } from '../../proxy/security/jwt.ts';
import { compileAuthz, claimPath, type AuthzRequest } from '../../proxy/security/authz.ts';
import { jwksOf, sign, testKey, type TestKey } from './jwt-helpers.ts';

const NOW_S = 1_900_000_000;
const clock = { ms: NOW_S * 1000 };
const ISS = 'https://issuer.example';
let rsa: TestKey;
let ec: TestKey;
let other: TestKey;

function rule(extra: Partial<JwtRule> = {}): JwtRule {
  return {
    issuer: ISS, audiences: ['api'], jwks: jwksOf(rsa, ec), locations: [{ header: { name: 'authorization', prefix: 'Bearer ' } }, { param: 'access_token' }],
    forwardOriginalToken: false, outputClaimToHeaders: [], spaceDelimitedClaims: [], provenance: { kind: 'RequestAuthentication', namespace: 'b', name: 'jwt' }, ...extra,
  };
}

const src = (headers: Record<string, string>, query: Record<string, string> = {}): JwtSource => ({ header: (n) => headers[n], queryParam: (n) => query[n] });
const bearer = (t: string): JwtSource => src({ authorization: `Bearer ${t}` });

before(async () => {
  rsa = await testKey('rsa-1', 'RS256');
  ec = await testKey('ec-1', 'ES256');
  other = await testKey('rsa-1', 'RS256'); // same kid, different key: a forged signature
});

describe('JWT verification', () => {
  const jwt = () => compileJwt([rule()], { now: () => clock.ms })!;

  it('no rules: no step at all', () => {
    assert.equal(compileJwt(undefined), undefined);
    assert.equal(compileJwt([]), undefined);
  });

  it('RS256 and ES256 tokens verify: principal iss/sub, audiences, presenter, claims', async () => {
    for (const k of [rsa, ec]) {
      const o = await jwt().authenticate(bearer(await sign(k, { iss: ISS, sub: 'alice', aud: ['api', 'x'], azp: 'web-app' }, { nowS: NOW_S })));
      assert.equal(o.kind, 'ok', JSON.stringify(o));
      const ok = o as Extract<JwtOutcome, { kind: 'ok' }>;
      assert.equal(ok.auth.principal, `${ISS}/alice`);
      assert.deepEqual(ok.auth.audiences, ['api', 'x']);
      assert.equal(ok.auth.presenter, 'web-app');
    }
  });

  it('no token: unauthenticated, not refused', async () => {
    assert.deepEqual(await jwt().authenticate(src({})), { kind: 'none' });
    assert.deepEqual(await jwt().authenticate(src({ authorization: 'Basic dXNlcjpwYXNz' })), { kind: 'none' }, 'another scheme is not a bearer token');
  });

  const cases: [string, () => Promise<string>, string][] = [
    ['expired (beyond 60 s of skew)', () => sign(rsa, { iss: ISS, sub: 'a', aud: 'api' }, { nowS: NOW_S - 7200, expInS: 3600 }), 'MESHLET_SECURITY_JWT_EXPIRED'],
    ['wrong issuer', () => sign(rsa, { iss: 'https://evil.example', sub: 'a', aud: 'api' }, { nowS: NOW_S }), 'MESHLET_SECURITY_JWT_ISSUER'],
    ['wrong audience', () => sign(rsa, { iss: ISS, sub: 'a', aud: 'other' }, { nowS: NOW_S }), 'MESHLET_SECURITY_JWT_AUDIENCE'],
    ['bad signature (same kid, another key)', () => sign(other, { iss: ISS, sub: 'a', aud: 'api' }, { nowS: NOW_S }), 'MESHLET_SECURITY_JWT_INVALID'],
    ['unknown kid', () => sign(other, { iss: ISS, sub: 'a', aud: 'api' }, { nowS: NOW_S, kid: 'nope' }), 'MESHLET_SECURITY_JWT_NO_KEY_MATCH'],
    ['not a JWT', async () => 'abc.def', 'MESHLET_SECURITY_JWT_INVALID'],
  ];
  for (const [name, make, code] of cases) {
    it(`${name} → ${code}`, async () => {
      const o = await jwt().authenticate(bearer(await make()));
      assert.equal(o.kind, 'fail');
      assert.equal((o as Extract<JwtOutcome, { kind: 'fail' }>).code, code, JSON.stringify(o));
    });
  }

  it('expiry follows the injected clock, with 60 s of skew; a cached token expires too', async () => {
    const j = jwt();
    const t = await sign(rsa, { iss: ISS, sub: 'a', aud: 'api' }, { nowS: NOW_S, expInS: 100 });
    assert.equal((await j.authenticate(bearer(t))).kind, 'ok');
    clock.ms = (NOW_S + 150) * 1000;
    assert.equal((await j.authenticate(bearer(t))).kind, 'ok', 'within the skew (cached)');
    clock.ms = (NOW_S + 200) * 1000;
    const o = await j.authenticate(bearer(t));
    clock.ms = NOW_S * 1000;
    assert.equal(o.kind === 'fail' && o.code, 'MESHLET_SECURITY_JWT_EXPIRED');
  });

  it('no audiences listed: any audience; locations: query parameter, custom header with prefix, cookie', async () => {
    const t = await sign(ec, { iss: ISS, sub: 'a', aud: 'whatever' }, { nowS: NOW_S });
    const any = compileJwt([rule({ audiences: [] })], { now: () => clock.ms })!;
    assert.equal((await any.authenticate(bearer(t))).kind, 'ok');
    assert.equal((await any.authenticate(src({}, { access_token: t }))).kind, 'ok');
    const custom = compileJwt([rule({ audiences: [], locations: [{ header: { name: 'x-jwt', prefix: 'Token ' } }, { cookie: 'session' }] })], { now: () => clock.ms })!;
    assert.equal((await custom.authenticate(src({ 'x-jwt': `Token ${t}` }))).kind, 'ok');
    assert.equal((await custom.authenticate(src({ cookie: `a=b; session=${t}` }))).kind, 'ok');
    assert.equal((await custom.authenticate(bearer(t))).kind, 'none', 'Authorization is not read when fromHeaders names others');
  });

  it('keys the operator could not fetch: every token of that issuer is refused', async () => {
    const j = compileJwt([rule({ jwks: undefined, jwksError: 'GET https://issuer.example/jwks answered 503' } as Partial<JwtRule>)], { now: () => clock.ms })!;
    const o = await j.authenticate(bearer(await sign(rsa, { iss: ISS, sub: 'a', aud: 'api' }, { nowS: NOW_S })));
    assert.equal(o.kind === 'fail' && o.code, 'MESHLET_SECURITY_JWT_NO_KEYS');
  });
});

describe('AuthorizationPolicy on JWT attributes', () => {
  const pol = (rules: Partial<AuthzRule>[], action: AuthzPolicy['action'] = 'ALLOW'): AuthzPolicy => ({ name: 'b/p', action, rules: rules.map((r) => ({ from: [], to: [], when: [], ...r })), provenance: { kind: 'AuthorizationPolicy', namespace: 'b', name: 'p' } });
  const req = async (claims: Record<string, unknown> | undefined): Promise<AuthzRequest> => {
    const r: AuthzRequest = { http: true, sourceIp: '127.0.0.1', destinationIp: '127.0.0.1', destinationPort: 8080, method: 'GET', path: '/' };
    if (claims === undefined) return r;
    const o = await compileJwt([rule()], { now: () => clock.ms })!.authenticate(bearer(await sign(rsa, { iss: ISS, aud: 'api', ...claims }, { nowS: NOW_S })));
    assert.equal(o.kind, 'ok');
    if (o.kind === 'ok') r.auth = o.auth;
    return r;
  };

  it('claim paths parse nested keys', () => {
    assert.deepEqual(claimPath('request.auth.claims[groups]'), ['groups']);
    assert.deepEqual(claimPath('request.auth.claims[org][team]'), ['org', 'team']);
    assert.equal(claimPath('request.auth.claims[]'), undefined);
  });

  it('requestPrincipals: any token / one principal / notRequestPrincipals', async () => {
    const any = compileAuthz([pol([{ from: [{ requestPrincipals: ['*'] }] }])]);
    assert.equal(any.evaluate(await req(undefined)).allowed, false, 'no token: no principal');
    assert.equal(any.evaluate(await req({ sub: 'bob' })).allowed, true);
    const one = compileAuthz([pol([{ from: [{ requestPrincipals: [`${ISS}/alice`] }] }])]);
    assert.equal(one.evaluate(await req({ sub: 'bob' })).allowed, false);
    assert.equal(one.evaluate(await req({ sub: 'alice' })).allowed, true);
    const deny = compileAuthz([pol([{ from: [{ notRequestPrincipals: ['*'] }] }], 'DENY')]);
    assert.equal(deny.evaluate(await req(undefined)).allowed, false, 'DENY notRequestPrincipals * refuses requests without a token');
    assert.equal(deny.evaluate(await req({ sub: 'x' })).allowed, true);
  });

  it('when: audiences, presenter, principal, list claims, nested claims, space-delimited scope', async () => {
    const cases: [string, string[], Record<string, unknown>, boolean][] = [
      ['request.auth.audiences', ['api'], { sub: 'a' }, true],
      ['request.auth.presenter', ['web'], { sub: 'a', azp: 'web' }, true],
      ['request.auth.presenter', ['web'], { sub: 'a', azp: 'cli' }, false],
      ['request.auth.principal', [`${ISS}/a`], { sub: 'a' }, true],
      ['request.auth.claims[groups]', ['admin'], { sub: 'a', groups: ['dev', 'admin'] }, true],
      ['request.auth.claims[groups]', ['admin'], { sub: 'a', groups: ['dev'] }, false],
      ['request.auth.claims[org][team]', ['core*'], { sub: 'a', org: { team: 'core-platform' } }, true],
      ['request.auth.claims[org][team]', ['core*'], { sub: 'a', org: 'core' }, false],
      ['request.auth.claims[scope]', ['write'], { sub: 'a', scope: 'read write' }, true],
      ['request.auth.claims[admin]', ['true'], { sub: 'a', admin: true }, false],
    ];
    for (const [key, values, claims, allowed] of cases) {
      const a = compileAuthz([pol([{ when: [{ key, values }] }])]);
      assert.equal(a.evaluate(await req(claims)).allowed, allowed, `${key} ${JSON.stringify(values)} on ${JSON.stringify(claims)}`);
      assert.equal(a.evaluate(await req(undefined)).allowed, false, `${key}: no token, no value`);
      assert.equal(a.warnings.length, 0, 'supported keys give no warning');
    }
    const not = compileAuthz([pol([{ when: [{ key: 'request.auth.claims[groups]', notValues: ['banned'] }] }])]);
    assert.equal(not.evaluate(await req({ sub: 'a', groups: ['x', 'banned'] })).allowed, false);
    assert.equal(not.evaluate(await req({ sub: 'a', groups: ['x'] })).allowed, true);
  });

  it('TCP: an ALLOW rule on request principals never matches a connection', async () => {
    const a = compileAuthz([pol([{ from: [{ requestPrincipals: ['*'] }] }])]);
    assert.equal(a.evaluate({ http: false, sourceIp: '127.0.0.1', destinationIp: '127.0.0.1', destinationPort: 9000 }).allowed, false);
  });

  it('trustDomains and the source.trustDomain condition read the peer principal', () => {
    const a = compileAuthz([pol([{ from: [{ trustDomains: ['corp.example'] }] }])]);
    const base = { http: true, sourceIp: '127.0.0.1', destinationIp: '127.0.0.1', destinationPort: 80 };
    assert.equal(a.evaluate({ ...base, principal: 'spiffe://corp.example/ns/a/sa/b' }).allowed, true);
    assert.equal(a.evaluate({ ...base, principal: 'spiffe://cluster.local/ns/a/sa/b' }).allowed, false);
    const c = compileAuthz([pol([{ when: [{ key: 'source.trustDomain', notValues: ['cluster.local'] }] }])]);
    assert.equal(c.evaluate({ ...base, principal: 'spiffe://cluster.local/ns/a/sa/b' }).allowed, false);
    assert.equal(c.evaluate({ ...base, principal: 'spiffe://corp.example/ns/a/sa/b' }).allowed, true);
  });
});

describe('JWT step without waiting', () => {
  it('known(): no token and a cached verified token are decided at once; a new token is not', async () => {
    const j = compileJwt([rule()], { now: () => clock.ms })!;
    assert.deepEqual(j.known(src({})), { kind: 'none' });
    const t = await sign(rsa, { iss: ISS, sub: 'a', aud: 'api' }, { nowS: NOW_S });
    assert.equal(j.known(bearer(t)), undefined, 'never verified: needs authenticate()');
    assert.equal((await j.authenticate(bearer(t))).kind, 'ok');
    assert.equal(j.known(bearer(t))?.kind, 'ok');
    const bad = await sign(other, { iss: ISS, sub: 'a', aud: 'api' }, { nowS: NOW_S });
    assert.equal((await j.authenticate(bearer(bad))).kind, 'fail');
    assert.equal(j.known(bearer(bad)), undefined, 'failures are not cached as successes');
  });
});

describe('presence REQUIRED', () => {
  it('a request without a token is refused with MESHLET_SECURITY_JWT_MISSING; a valid token still passes', async () => {
    const j = compileJwt([rule({ required: true })], { now: () => clock.ms })!;
    const none = j.known(src({}));
    assert.equal(none?.kind === 'fail' && none.code, 'MESHLET_SECURITY_JWT_MISSING');
    assert.equal((await j.authenticate(bearer(await sign(rsa, { iss: ISS, sub: 'a', aud: 'api' }, { nowS: NOW_S })))).kind, 'ok');
  });
});
