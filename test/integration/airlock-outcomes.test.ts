/**
 * Seed 002 (Airlock Microgateway JWT authentication) completed into valid documents and driven through a real
 * gRPC round trip: a local JWKS file and a remote JWKS served on 127.0.0.1, one JWT with four extraction sources
 * and two requireAny entries, one with the defaults, and an AccessControlPolicy on an HTTPRoute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { generateTestKey, jwksOf, mintToken, type TestKey } from '../helpers/tokens.js';
import type { CheckRequestInput } from '../helpers/upstream-client.js';
import { bodyOf, headerOf, httpStatusOf } from '../helpers/upstream-client.js';

const ISSUER_A = 'https://idp-a.example.com';
const ISSUER_B = 'https://idp-b.example.com';
const HOST = 'api.example.com';

function documents(remoteJwks: string): string {
  return `apiVersion: microgateway.airlock.com/v1alpha1
kind: JWKS
metadata: { name: local-keys, namespace: shop }
spec:
  provider:
    local: { jwksFile: idp-a.jwks }
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: JWKS
metadata: { name: remote-keys, namespace: shop }
spec:
  provider:
    remote:
      uri: ${remoteJwks}
      timeouts: { connect: 2s, maxDuration: 5s }
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: JWT
metadata: { name: api-jwt, namespace: shop }
spec:
  extractionSources:
    - header: { name: X-Api-Token }
    - cookie: { name: session }
    - queryParameter: { name: token }
    - bearerToken: {}
  requireAny:
    - jwksRef: { name: local-keys }
      issuer: ${ISSUER_A}
      audiences: [shop-api]
    - jwksRef: { name: remote-keys }
      issuer: ${ISSUER_B}
      subject: { matcher: { prefix: svc- } }
  expirationRequired: true
  maxLifetime: 2h
  clockSkewTolerance: 30s
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: JWT
metadata: { name: default-jwt, namespace: shop }
spec:
  requireAny:
    - jwksRef: { name: local-keys }
  expirationRequired: false
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: shop }
spec:
  parentRefs: [{ name: gateway, namespace: gateway }]
  hostnames: [${HOST}]
  rules:
    - matches: [{ path: { type: PathPrefix, value: / } }]
      backendRefs: [{ name: shop, port: 8080 }]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: { name: open, namespace: shop }
spec:
  parentRefs: [{ name: gateway, namespace: gateway }]
  hostnames: [open.example.com]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: strict, namespace: shop }
spec:
  parentRefs: [{ name: gateway, namespace: gateway }]
  hostnames: [strict.example.com]
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: AccessControlPolicy
metadata: { name: shop, namespace: shop }
spec:
  targetRefs:
    - { group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop }
  policies:
    - requestConditions: { remoteIP: { cidrRanges: [192.168.0.0/16] } }
      authorization: { deny: {} }
    - requestConditions: { path: { matcher: { exact: /public } } }
      authorization: {}
    - requestConditions: { path: { matcher: { prefix: /admin } } }
      authorization:
        authentication: { jwt: { jwtRef: { name: api-jwt } } }
        requireAll:
          - jwt: { claim: { name: roles, value: { matcher: { exact: admin } } } }
          - jwt: { claim: { name: email, value: { matcher: { suffix: '@company.com' } } } }
    - requestConditions: { path: { matcher: { prefix: /any } } }
      authorization:
        authentication: { jwt: { jwtRef: { name: api-jwt } } }
        requireAny:
          - jwt: { claim: { name: level, value: { matcher: { exact: '3' } } } }
          - jwt: { claim: { name: beta, value: { matcher: { exact: 'true' } } } }
          - jwt: { claim: { name: org.unit, value: { matcher: { regex: 'ops-[a-z]+', ignoreCase: true } } } }
          - jwt: { claim: { name: vip } }
    - requestConditions: { invert: true, header: { name: { matcher: { exact: X-Client } } } }
      authorization: { deny: {} }
    - authorization:
        authentication: { jwt: { jwtRef: { name: default-jwt } } }
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: AccessControlPolicy
metadata: { name: strict, namespace: shop }
spec:
  targetRefs:
    - { group: gateway.networking.k8s.io, kind: HTTPRoute, name: strict }
  policies:
    - requestConditions: { method: [GET] }
      authorization: {}
`;
}

describe('seed 002: Airlock JWT authentication through gRPC', () => {
  let svc: TestService;
  let jwks: JwksServer;
  let localKey: TestKey;
  let remoteKey: TestKey;
  const now = (): number => Math.floor(Date.now() / 1000);
  /** A token for issuer A (local keys, audience shop-api) with extra claims. */
  const tokenA = (claims: Record<string, unknown> = {}, nowSec?: number): Promise<string> =>
    mintToken(localKey, { iss: ISSUER_A, aud: 'shop-api', sub: 'alice', ...claims }, nowSec === undefined ? {} : { nowSec });
  const admin = { roles: ['user', 'admin'], email: 'alice@company.com' };

  beforeAll(async () => {
    localKey = await generateTestKey('RS256', 'local-1');
    remoteKey = await generateTestKey('ES256', 'remote-1');
    jwks = await startJwksServer({ '/jwks.json': { body: jwksOf(remoteKey) } });
    svc = await startTestService({ 'airlock.yaml': documents(`${jwks.url}/jwks.json`), 'idp-a.jwks': jwksOf(localKey) });
  });
  afterAll(async () => {
    await svc.close();
    await jwks.close();
  });

  /** Status of a request to HOST (or `input.host`). */
  async function status(input: CheckRequestInput): Promise<number> {
    return httpStatusOf(await svc.check({ host: HOST, ...input }));
  }

  describe('token sources: the first present one wins', () => {
    it.each([
      { name: 'a custom header holds the whole token, no prefix', headers: async () => ({ 'x-api-token': await tokenA(admin) }), expected: 200 },
      { name: 'a custom header with a Bearer prefix is not a token', headers: async () => ({ 'x-api-token': `Bearer ${await tokenA(admin)}` }), expected: 401 },
      { name: 'a cookie source', headers: async () => ({ cookie: `theme=dark; session=${await tokenA(admin)}` }), expected: 200 },
      { name: 'the bearer source', headers: async () => ({ authorization: `Bearer ${await tokenA(admin)}` }), expected: 200 },
      { name: 'an earlier present source wins even when it is bad', headers: async () => ({ 'x-api-token': 'garbage', authorization: `Bearer ${await tokenA(admin)}` }), expected: 401 },
      { name: 'an earlier source decides even when a later one is better', headers: async () => ({ cookie: `session=${await tokenA({ ...admin, roles: ['user'] })}`, authorization: `Bearer ${await tokenA(admin)}` }), expected: 403 },
      { name: 'no source present: 401', headers: () => Promise.resolve({}), expected: 401 },
      { name: 'a lower-case bearer scheme is not the bearer source', headers: async () => ({ authorization: `bearer ${await tokenA(admin)}` }), expected: 401 },
    ])('$name → $expected', async ({ headers, expected }) => {
      expect(await status({ path: '/admin/users', headers: await headers() })).toBe(expected);
    });

    it('a query parameter source', async () => {
      expect(await status({ path: `/admin/users?token=${await tokenA(admin)}` })).toBe(200);
    });

    it('a missing token is answered 401 with a Bearer challenge for the path, never the query', async () => {
      const resp = await svc.check({ host: HOST, path: '/admin/users?secret=1' });
      expect(httpStatusOf(resp)).toBe(401);
      expect(headerOf(resp, 'www-authenticate')).toBe(`Bearer realm="http://${HOST}/admin/users", error="invalid_token"`);
      expect(bodyOf(resp)).toMatchObject({ error: 'token_missing' });
    });
  });

  describe('requireAny: issuer, audiences, subject, keys', () => {
    it.each([
      { name: 'issuer A with its audience', mint: () => tokenA(admin), expected: 200 },
      { name: 'issuer A with an audience list holding it', mint: () => tokenA({ ...admin, aud: ['other', 'shop-api'] }), expected: 200 },
      { name: 'issuer A with another audience', mint: () => tokenA({ ...admin, aud: 'other' }), expected: 401 },
      { name: 'issuer A without audience', mint: () => tokenA({ ...admin, aud: undefined }), expected: 401 },
      { name: 'issuer B from the remote JWKS with a svc- subject', mint: () => mintToken(remoteKey, { iss: ISSUER_B, sub: 'svc-billing', ...admin }), expected: 200 },
      { name: 'issuer B with a subject outside the matcher', mint: () => mintToken(remoteKey, { iss: ISSUER_B, sub: 'user-1', ...admin }), expected: 401 },
      { name: 'issuer B signed with issuer A keys', mint: () => mintToken(localKey, { iss: ISSUER_B, sub: 'svc-billing', ...admin }), expected: 401 },
      { name: 'issuer A signed with the remote keys', mint: () => mintToken(remoteKey, { iss: ISSUER_A, aud: 'shop-api', ...admin }), expected: 401 },
      { name: 'an issuer no entry lists', mint: () => mintToken(localKey, { iss: 'https://evil.example.com', aud: 'shop-api', ...admin }), expected: 401 },
    ])('$name → $expected', async ({ mint, expected }) => {
      expect(await status({ path: '/admin', headers: { authorization: `Bearer ${await mint()}` } })).toBe(expected);
    });

    it('fetched the remote key set from the local server', () => {
      expect(jwks.count('/jwks.json')).toBeGreaterThanOrEqual(1);
    });
  });

  describe('time: expirationRequired, maxLifetime (2h), clock skew (30s)', () => {
    it.each([
      { name: 'no exp where expirationRequired is true', claims: { exp: undefined }, expected: 401 },
      { name: 'a lifetime of 3h is longer than maxLifetime', claims: { exp: now() + 3 * 3600 }, expected: 401 },
      { name: 'a lifetime of 1h is within maxLifetime', claims: { exp: now() + 3600 }, expected: 200 },
      { name: 'nbf counts before iat for the lifetime', claims: { iat: now() - 5 * 3600, nbf: now() - 60, exp: now() + 3600 }, expected: 200 },
      { name: 'no iat and no nbf: the lifetime cannot be checked', claims: { iat: undefined, exp: now() + 600 }, expected: 401 },
      { name: 'expired 10s ago is within the 30s skew', claims: { iat: now() - 600, exp: now() - 10 }, expected: 200 },
      { name: 'expired 45s ago is beyond the 30s skew (the 60s default would accept it)', claims: { iat: now() - 600, exp: now() - 45 }, expected: 401 },
      { name: 'nbf 10s ahead is within the skew', claims: { nbf: now() + 10, exp: now() + 600 }, expected: 200 },
      { name: 'nbf 45s ahead is beyond the 30s skew', claims: { nbf: now() + 45, exp: now() + 600 }, expected: 401 },
    ])('$name → $expected', async ({ claims, expected }) => {
      expect(await status({ path: '/admin', headers: { authorization: `Bearer ${await tokenA({ ...admin, ...claims })}` } })).toBe(expected);
    });

    it('expirationRequired: false accepts a token without exp (default JWT, catch-all policy)', async () => {
      const token = await tokenA({ exp: undefined });
      expect(await status({ path: '/orders', headers: { authorization: `Bearer ${token}`, 'x-client': 'web' } })).toBe(200);
    });
  });

  describe('claim requirements (403 when the token is valid but the claims do not fit)', () => {
    it.each([
      { name: 'requireAll: role and email hold', path: '/admin', claims: admin, expected: 200 },
      { name: 'requireAll: a single string claim equal to the value', path: '/admin', claims: { ...admin, roles: 'admin' }, expected: 200 },
      { name: 'requireAll: the role is missing from the array', path: '/admin', claims: { ...admin, roles: ['user'] }, expected: 403 },
      { name: 'requireAll: exact is not contains', path: '/admin', claims: { ...admin, roles: ['admins'] }, expected: 403 },
      { name: 'requireAll: one failing condition', path: '/admin', claims: { ...admin, email: 'alice@company.com.evil.org' }, expected: 403 },
      { name: 'requireAny: a number is stringified', path: '/any', claims: { level: 3 }, expected: 200 },
      { name: 'requireAny: numbers in arrays are stringified', path: '/any', claims: { level: [1, 3] }, expected: 200 },
      { name: 'requireAny: a boolean is stringified', path: '/any', claims: { beta: true }, expected: 200 },
      { name: 'requireAny: a nested claim by dot path, regex ignoreCase', path: '/any', claims: { org: { unit: 'OPS-Europe' } }, expected: 200 },
      { name: 'requireAny: a regex is a full match', path: '/any', claims: { org: { unit: 'ops-eu-1' } }, expected: 403 },
      { name: 'requireAny: presence alone (an object value)', path: '/any', claims: { vip: { tier: 'gold' } }, expected: 200 },
      { name: 'requireAny: an object never matches a value', path: '/any', claims: { level: { value: 3 } }, expected: 403 },
      { name: 'requireAny: null never matches a value', path: '/any', claims: { beta: null }, expected: 403 },
      { name: 'requireAny: nothing fits', path: '/any', claims: { level: 2, beta: false }, expected: 403 },
    ])('$name → $expected', async ({ path, claims, expected }) => {
      const resp = await svc.check({ host: HOST, path, headers: { authorization: `Bearer ${await tokenA(claims)}` } });
      expect(httpStatusOf(resp)).toBe(expected);
      if (expected === 403) expect(headerOf(resp, 'www-authenticate')).toBeUndefined();
    });
  });

  describe('policy order, deny, public, invert, scope', () => {
    it.each([
      { name: 'the public path needs no token', input: { path: '/public' }, expected: 200 },
      { name: 'public is exact: below it the later policies apply', input: { path: '/public/x' }, expected: 403 },
      { name: 'a denied network is denied first, even on the public path', input: { path: '/public', sourceAddress: '192.168.3.4' }, expected: 403 },
      { name: 'invert: a request without X-Client is denied', input: { path: '/orders' }, expected: 403 },
      { name: 'invert: with X-Client the catch-all JWT policy asks for a token', input: { path: '/orders', headers: { 'x-client': 'web' } }, expected: 401 },
      { name: 'a route without a policy is not governed', input: { path: '/anything', host: 'open.example.com' }, expected: 200 },
      { name: 'a request no policy entry selects is denied', input: { path: '/x', method: 'POST', host: 'strict.example.com' }, expected: 403 },
      { name: 'the entry that selects it allows', input: { path: '/x', host: 'strict.example.com' }, expected: 200 },
    ])('$name → $expected', async ({ input, expected }) => {
      expect(await status(input)).toBe(expected);
    });

    it('the catch-all policy allows any valid token of the default JWT (any issuer)', async () => {
      const token = await mintToken(localKey, { iss: 'https://anyone.example.com', sub: 'x' });
      expect(await status({ path: '/orders', headers: { authorization: `Bearer ${token}`, 'x-client': 'web' } })).toBe(200);
    });

    it('a deny answers 403 with a reason, no challenge', async () => {
      const resp = await svc.check({ host: HOST, path: '/orders' });
      expect(bodyOf(resp)).toMatchObject({ error: 'denied_by_rule' });
      expect(headerOf(resp, 'www-authenticate')).toBeUndefined();
    });
  });
});
