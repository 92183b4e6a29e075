import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/model/decision.js';
import { type TestEngine, type TestRequest, engineFor, statusOf } from '../helpers/engine.js';
import { type TestKey, generateTestKey, mintToken, withAlg } from '../helpers/tokens.js';

// RequestAuthentication semantics (semantics.md §1, §0): token locations, verification outcomes, outputs.
const ISS = 'https://issuer.test';
const ISS2 = 'https://other.test';
let k1: TestKey; // RSA, kid k1
let ec1: TestKey; // P-256, kid ec1
let ed1: TestKey; // Ed25519, kid ed1
let hs1: TestKey; // 32-byte oct, kid hs1
let b1: TestKey; // RSA of the second issuer, kid b1
let stranger: TestKey; // RSA not in any set, kid k1 (same kid as k1)
const now = () => Math.floor(Date.now() / 1000);

function ra(rules: string, ns = 'istio-system', name = 'ra'): string {
  return `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ${name}, namespace: ${ns}}
spec:
  jwtRules:
${rules}
---
`;
}

function rule(issuer: string, keys: TestKey[], extra = ''): string {
  const jwks = JSON.stringify({ keys: keys.map((k) => k.publicJwk) });
  return `  - issuer: ${issuer}\n    jwks: '${jwks}'\n${extra.replace(/^/gm, '    ')}\n`;
}

const bearer = (t: string): TestRequest => ({ headers: { authorization: `Bearer ${t}` } });

async function expectDecision(engine: TestEngine, req: TestRequest, status: number, reason?: string): Promise<Decision> {
  const d = await engine.decide(req);
  expect(statusOf(d), JSON.stringify(d)).toBe(status);
  if (reason !== undefined) expect(d.kind === 'deny' ? d.reason : 'allowed').toBe(reason);
  return d;
}

beforeAll(async () => {
  [k1, ec1, ed1, hs1, b1, stranger] = await Promise.all([
    generateTestKey('RS256', 'k1'),
    generateTestKey('ES256', 'ec1'),
    generateTestKey('EdDSA', 'ed1'),
    generateTestKey('HS256', 'hs1'),
    generateTestKey('RS256', 'b1'),
    generateTestKey('RS256', 'k1'),
  ]);
});

describe('verification outcomes (one rule, default locations, no AuthorizationPolicy)', () => {
  let e: TestEngine;
  beforeAll(() => {
    e = engineFor(ra(rule(ISS, [k1, ec1, ed1, hs1], 'audiences: [api.test, "https://svc.test/"]') + rule(ISS2, [b1])));
  });
  afterAll(() => e.close());

  const cases: { name: string; token: () => Promise<string>; status: number; reason: string }[] = [
    { name: 'RS256 valid token is accepted', token: () => mintToken(k1, { iss: ISS, sub: 'alice', aud: 'api.test' }), status: 200, reason: 'allowed' },
    { name: 'PS256 with a kid-less-alg RSA key is accepted', token: async () => mintToken(await withAlg(k1, 'PS256'), { iss: ISS, sub: 'alice', aud: 'api.test' }), status: 200, reason: 'allowed' },
    { name: 'ES256 valid token is accepted', token: () => mintToken(ec1, { iss: ISS, sub: 'a', aud: 'api.test' }), status: 200, reason: 'allowed' },
    { name: 'EdDSA valid token is accepted', token: () => mintToken(ed1, { iss: ISS, sub: 'a', aud: 'api.test' }), status: 200, reason: 'allowed' },
    { name: 'HS256 with an oct key is accepted', token: () => mintToken(hs1, { iss: ISS, sub: 'a', aud: 'api.test' }), status: 200, reason: 'allowed' },
    { name: 'token of the second issuer verifies with its own keys', token: () => mintToken(b1, { iss: ISS2, sub: 'bob' }), status: 200, reason: 'allowed' },
    { name: 'audience given with scheme and trailing slash still matches', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: 'https://api.test/' }), status: 200, reason: 'allowed' },
    { name: 'configured audience with scheme matches a bare aud', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: ['x', 'svc.test'] }), status: 200, reason: 'allowed' },
    { name: 'audience not allowed is 403 (Envoy filter.cc)', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: 'other' }), status: 403, reason: 'audience_mismatch' },
    { name: 'audience compared case-sensitively', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: 'API.TEST' }), status: 403, reason: 'audience_mismatch' },
    { name: 'no aud when audiences are configured is 403', token: () => mintToken(k1, { iss: ISS, sub: 'a' }), status: 403, reason: 'audience_mismatch' },
    { name: 'signature by a key not in the set (same kid) is 401', token: () => mintToken(stranger, { iss: ISS, sub: 'a', aud: 'api.test' }), status: 401, reason: 'signature_invalid' },
    { name: 'unknown kid is 401', token: () => mintToken({ ...stranger, kid: 'k9' }, { iss: ISS, sub: 'a', aud: 'api.test' }), status: 401, reason: 'key_not_found' },
    { name: 'key of the other issuer under a shared kid is 401 (keys are per issuer)', token: () => mintToken({ ...b1, kid: 'k1' }, { iss: ISS, sub: 'a', aud: 'api.test' }), status: 401, reason: 'signature_invalid' },
    { name: 'issuer configured nowhere is 401', token: () => mintToken(k1, { iss: 'https://evil.test', sub: 'a' }), status: 401, reason: 'issuer_unknown' },
    { name: 'issuer with a trailing slash is another issuer', token: () => mintToken(k1, { iss: `${ISS}/`, sub: 'a', aud: 'api.test' }), status: 401, reason: 'issuer_unknown' },
    { name: 'expired 2 minutes ago is 401', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: 'api.test', exp: now() - 120 }), status: 401, reason: 'token_expired' },
    { name: 'expired 30 s ago is inside the 60 s skew', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: 'api.test', exp: now() - 30 }), status: 200, reason: 'allowed' },
    { name: 'nbf 2 minutes ahead is 401', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: 'api.test', nbf: now() + 120 }), status: 401, reason: 'token_not_yet_valid' },
    { name: 'nbf 30 s ahead is inside the skew', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: 'api.test', nbf: now() + 30 }), status: 200, reason: 'allowed' },
    { name: 'token without exp never expires (Envoy default)', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: 'api.test', exp: undefined }), status: 200, reason: 'allowed' },
    { name: 'numeric sub is a type error', token: () => mintToken(k1, { iss: ISS, sub: 5 as unknown as string, aud: 'api.test' }), status: 401, reason: 'claim_invalid' },
    { name: 'string exp is a type error', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: 'api.test', exp: '9999999999' as unknown as number }), status: 401, reason: 'claim_invalid' },
    { name: 'aud list with a number is a type error', token: () => mintToken(k1, { iss: ISS, sub: 'a', aud: ['api.test', 5] as unknown as string[] }), status: 401, reason: 'claim_invalid' },
    {
      name: 'alg none is refused',
      token: async () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISS, sub: 'a' })).toString('base64url')}.`,
      status: 401,
      reason: 'token_malformed',
    },
    {
      name: 'alg none with a signature is unsupported',
      token: async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISS })).toString('base64url')}.c2ln`,
      status: 401,
      reason: 'algorithm_unsupported',
    },
    {
      name: 'HS256 signed with the RSA public key as secret (alg confusion) is 401',
      token: async () => new SignJWT({ iss: ISS, sub: 'a', aud: 'api.test' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(JSON.stringify(k1.publicJwk))),
      status: 401,
      reason: 'key_not_found',
    },
    { name: 'garbage is malformed', token: async () => 'not-a-jwt', status: 401, reason: 'token_malformed' },
  ];

  it.each(cases)('$name', async ({ token, status, reason }) => {
    await expectDecision(e, bearer(await token()), status, reason);
  });

  it('a valid token yields the principal iss/sub', async () => {
    const d = await expectDecision(e, bearer(await mintToken(k1, { iss: ISS, sub: 'alice', aud: 'api.test' })), 200);
    expect(d.kind === 'allow' && d.principal).toBe(`${ISS}/alice`);
  });
});

describe('token locations (semantics §0.4, §0.5, §1.2)', () => {
  let def: TestEngine;
  let custom: TestEngine;
  let token: string;
  beforeAll(async () => {
    token = await mintToken(k1, { iss: ISS, sub: 'alice' });
    def = engineFor(ra(rule(ISS, [k1])));
    custom = engineFor(
      ra(rule(ISS, [k1], 'fromHeaders:\n- name: X-Jwt-Assertion\n  prefix: "Kyma "\n- name: x-raw\nfromParams: [tok]\nfromCookies: [session]\nforwardOriginalToken: true')),
    );
  });
  afterAll(() => {
    def.close();
    custom.close();
  });

  it.each([
    { name: 'Authorization Bearer', req: () => bearer(token), status: 200 },
    { name: 'access_token query parameter', req: () => ({ path: `/x?access_token=${token}` }), status: 200 },
    { name: 'lower-case bearer is no token (allowed, no principal)', req: () => ({ headers: { authorization: `bearer ${token}` } }), status: 200, principal: false },
    { name: 'Basic credentials are no token', req: () => ({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }), status: 200, principal: false },
    { name: 'garbage after a lower-case bearer is ignored', req: () => ({ headers: { authorization: 'bearer garbage' } }), status: 200, principal: false },
    { name: 'two spaces after Bearer still find the token', req: () => ({ headers: { authorization: `Bearer  ${token}` } }), status: 200, principal: true },
    { name: 'the prefix anywhere in the value is found', req: () => ({ headers: { authorization: `Token Bearer ${token}` } }), status: 200, principal: true },
    { name: 'junk after the token makes it invalid', req: () => ({ headers: { authorization: `Bearer ${token} junk` } }), status: 401 },
    { name: 'empty access_token is a present, invalid token', req: () => ({ path: '/x?access_token=' }), status: 401 },
    { name: 'query parameter names are case-sensitive', req: () => ({ path: `/x?Access_Token=${token}` }), status: 200, principal: false },
    { name: 'the same token twice counts once', req: () => ({ path: `/x?access_token=${token}`, headers: { authorization: `Bearer ${token}` } }), status: 200, principal: true },
    { name: 'two different tokens are 401 invalid_request', req: () => ({ path: '/x?access_token=other.token.here', headers: { authorization: `Bearer ${token}` } }), status: 401 },
  ])('default locations: $name', async ({ req, status, principal }) => {
    const d = await def.decide(req());
    expect(statusOf(d)).toBe(status);
    if (principal !== undefined && d.kind === 'allow') expect(d.principal !== undefined).toBe(principal);
  });

  it('--strict-bearer answers 401 to a wrongly cased scheme instead of "no token" (decision D5)', async () => {
    const strict = engineFor(ra(rule(ISS, [k1])), { strictBearer: true });
    try {
      expect(await strict.decide({ headers: { authorization: `bearer ${token}` } })).toMatchObject({ kind: 'deny', status: 401, reason: 'token_malformed' });
      expect(statusOf(await strict.decide({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }))).toBe(200);
      expect(statusOf(await strict.decide(bearer(token)))).toBe(200);
    } finally {
      strict.close();
    }
  });

  it('two different tokens answer error="invalid_request"', async () => {
    const d = await def.decide({ path: '/x?access_token=a.b.c', headers: { authorization: `Bearer ${token}` } });
    expect(d).toMatchObject({ kind: 'deny', reason: 'multiple_tokens', bearerError: 'invalid_request' });
  });

  it('removes the token header and query parameter upstream (forwardOriginalToken false)', async () => {
    const d = await def.decide({ path: `/x?access_token=${token}`, headers: { authorization: `Bearer ${token}` } });
    expect(d).toMatchObject({ kind: 'allow', headersToRemove: ['authorization'], queryParametersToRemove: ['access_token'] });
  });

  it.each([
    { name: 'custom header with its prefix', req: () => ({ headers: { 'x-jwt-assertion': `Kyma ${token}` } }), principal: true },
    { name: 'custom header without the prefix holds no token', req: () => ({ headers: { 'x-jwt-assertion': token } }), principal: false },
    { name: 'header without prefix configured takes the whole value', req: () => ({ headers: { 'x-raw': token } }), principal: true },
    { name: 'custom query parameter', req: () => ({ path: `/p?tok=${token}` }), principal: true },
    { name: 'cookie', req: () => ({ headers: { cookie: `a=1; session=${token}` } }), principal: true },
    { name: 'Authorization is not looked at once locations are configured', req: () => bearer('garbage'), principal: false },
    { name: 'access_token is not looked at once locations are configured', req: () => ({ path: '/x?access_token=garbage' }), principal: false },
  ])('custom locations: $name', async ({ req, principal }) => {
    const d = await custom.decide(req());
    expect(d.kind).toBe('allow');
    if (d.kind === 'allow') expect(d.principal !== undefined).toBe(principal);
  });

  it('forwardOriginalToken true keeps the token upstream', async () => {
    const d = await custom.decide({ headers: { 'x-jwt-assertion': `Kyma ${token}` } });
    expect(d).toMatchObject({ kind: 'allow', headersToRemove: [] });
  });

  it('CORS preflight skips verification; OPTIONS without Origin does not', async () => {
    const pre = await def.decide({ method: 'OPTIONS', headers: { origin: 'https://a.test', 'access-control-request-method': 'GET', authorization: 'Bearer garbage' } });
    expect(statusOf(pre)).toBe(200);
    const notPre = await def.decide({ method: 'OPTIONS', headers: { 'access-control-request-method': 'GET', authorization: 'Bearer garbage' } });
    expect(statusOf(notPre)).toBe(401);
  });
});

describe('outputs (semantics §0.7, §0.8)', () => {
  let e: TestEngine;
  beforeAll(() => {
    e = engineFor(
      ra(
        rule(
          ISS,
          [k1],
          [
            'outputPayloadToHeader: x-jwt-payload',
            'outputClaimToHeaders:',
            '- {header: x-sub, claim: sub}',
            '- {header: x-num, claim: num}',
            '- {header: x-float, claim: flt}',
            '- {header: x-bool, claim: flag}',
            '- {header: x-nested, claim: realm.role}',
            '- {header: x-obj, claim: obj}',
            '- {header: x-missing, claim: nope}',
            '- {header: x-evil, claim: evil}',
          ].join('\n'),
        ),
      ),
    );
  });
  afterAll(() => e.close());

  it('sets typed claim headers and the verbatim payload segment', async () => {
    const t = await mintToken(k1, { iss: ISS, sub: 'alice', num: 42, flt: 1.5, flag: true, realm: { role: 'admin' }, obj: { a: [1] }, evil: 'a\r\nx-injected: 1' });
    const d = await e.decide(bearer(t));
    if (d.kind !== 'allow') throw new Error(JSON.stringify(d));
    const h = Object.fromEntries(d.headersToSet.map((x) => [x.name, x.value]));
    expect(h).toEqual({
      'x-jwt-payload': t.split('.')[1],
      'x-sub': 'alice',
      'x-num': '42',
      'x-float': '1.500000',
      'x-bool': 'true',
      'x-nested': 'admin',
      'x-obj': Buffer.from('{"a":[1]}').toString('base64'),
    });
  });

  it('strips client-sent copies of output headers, with or without a token, and never removes one it sets', async () => {
    const noToken = await e.decide({ headers: { 'x-sub': 'admin', 'x-jwt-payload': 'forged', 'x-missing': 'x' } });
    expect(noToken.kind === 'allow' && [...noToken.headersToRemove].sort()).toEqual(['x-jwt-payload', 'x-missing', 'x-sub']);
    const t = await mintToken(k1, { iss: ISS, sub: 'alice' });
    const withToken = await e.decide({ headers: { authorization: `Bearer ${t}`, 'x-sub': 'admin', 'x-missing': 'x' } });
    expect(withToken.kind === 'allow' && [...withToken.headersToRemove].sort()).toEqual(['authorization', 'x-missing']);
  });
});

describe('scoping and merging (semantics §1.1, §2.7)', () => {
  let e: TestEngine;
  let tA: string;
  let tB: string;
  beforeAll(async () => {
    e = engineFor(
      ra(rule(ISS, [k1]), 'istio-system', 'mesh') +
        ra(rule(ISS2, [b1]), 'foo', 'foo-ra') +
        `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: sel, namespace: bar}\nspec:\n  selector: {matchLabels: {app: web}}\n  jwtRules:\n${rule('https://web.test', [ec1])}`,
    );
    tA = await mintToken(k1, { iss: ISS, sub: 'a' });
    tB = await mintToken(b1, { iss: ISS2, sub: 'b' });
  });
  afterAll(() => e.close());

  it.each([
    { name: 'mesh-wide issuer accepted in any namespace', token: () => tA, ns: 'zzz', status: 200, principal: true },
    { name: 'namespaced issuer accepted in its namespace (context_extensions)', token: () => tB, ns: 'foo', status: 200, principal: true },
    { name: 'namespaced issuer unknown elsewhere', token: () => tB, ns: 'zzz', status: 401, principal: false },
    { name: 'namespace read from the destination SPIFFE principal', token: () => tB, principalNs: 'foo', status: 200, principal: true },
    { name: 'mesh issuer still accepted in a namespace with its own rules (merged)', token: () => tA, ns: 'foo', status: 200, principal: true },
  ])('$name', async ({ token, ns, principalNs, status }) => {
    const req: TestRequest = {
      ...bearer(token()),
      ...(ns !== undefined ? { contextExtensions: { namespace: ns } } : {}),
      ...(principalNs !== undefined ? { destinationPrincipal: `spiffe://cluster.local/ns/${principalNs}/sa/x` } : {}),
    };
    expect(statusOf(await e.decide(req))).toBe(status);
  });

  it('selector rules apply only to routes carrying the labels', async () => {
    const t = await mintToken(ec1, { iss: 'https://web.test', sub: 'w' });
    expect(statusOf(await e.decide({ ...bearer(t), contextExtensions: { namespace: 'bar', app: 'web' } }))).toBe(200);
    expect(statusOf(await e.decide({ ...bearer(t), contextExtensions: { namespace: 'bar', app: 'api' } }))).toBe(401);
    // A route that names no labels leaves them unknown: the selector applies (fail closed).
    expect(statusOf(await e.decide({ ...bearer(t), contextExtensions: { namespace: 'bar' } }))).toBe(200);
  });
});
