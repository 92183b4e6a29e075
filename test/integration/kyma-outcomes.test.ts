/**
 * Seeds 000 and 001 (Kyma APIRule `jwt` access strategy) completed into valid APIRules and driven through a real
 * gRPC round trip, keys served by a JWKS server on 127.0.0.1. Expected outcomes are Kyma's (semantics §4.3):
 * jwt rule without token 403, invalid token 401, missing scopes/audiences 403, noAuth open, first match wins,
 * the token forwarded upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { type TestService, startTestService } from '../helpers/service.js';
import { type TestKey, generateTestKey, jwksOf, mintToken } from '../helpers/tokens.js';
import { type CheckRequestInput, bodyOf, headerOf, headersToRemove, httpStatusOf } from '../helpers/upstream-client.js';

const ISSUER = 'https://example.com';
const OTHER_ISSUER = 'https://other-idp.example.com';

/** The APIRule frame of every example: one host, the Kyma gateway, the httpbin service. */
function apiRule(name: string, host: string, rules: string, version = 'v2'): string {
  return `apiVersion: gateway.kyma-project.io/${version}
kind: APIRule
metadata: { name: ${name}, namespace: test }
spec:
  hosts: [${host}]
  gateway: kyma-system/kyma-gateway
  service: { name: httpbin, port: 8000 }
  rules:
${rules}`;
}

function documents(jwksUri: string, otherJwksUri: string): Record<string, string> {
  const authn = `        authentications:
          - issuer: ${ISSUER}
            jwksUri: ${jwksUri}`;
  return {
    // Seed 000 "Minimal Configuration".
    'minimal.yaml': apiRule('minimal', 'minimal.example.com', `    - path: /headers
      methods: ["GET"]
      jwt:
${authn}
`),
    // Seed 000 "Configure Authentications": custom header with prefix, the guide's `fromParameters` spelling.
    'authentications.yaml': apiRule('authentications', 'headers.example.com', `    - path: /headers
      methods: ["GET"]
      jwt:
${authn}
            fromHeaders:
              - name: X-JWT-Assertion
                prefix: "Kyma "
            fromParameters:
              - "access_token"
`),
    // Seed 000 "Configure Authorizations".
    'authorizations.yaml': apiRule('authorizations', 'authz.example.com', `    - path: /headers
      methods: ["GET"]
      jwt:
${authn}
        authorizations:
          - requiredScopes: ["read", "write"]
            audiences: ["app1"]
`, 'v2alpha1'),
    // Seed 001 (the v1beta1 sneak peek) written as v2: /headers GET, required scope "test".
    'sneak-peek.yaml': apiRule('istio-jwt', 'httpbin.example.com', `    - path: /headers
      methods: ["GET"]
      jwt:
${authn}
        authorizations:
          - requiredScopes: ["test"]
`),
    // Kyma docs "Ordering Rules in APIRule v2", plus a second issuer on its own rule.
    'ordering.yaml': apiRule('ordering', 'order.example.com', `    - path: /anything/{*}/one
      methods: [POST]
      jwt:
${authn}
    - path: /other-idp
      methods: [GET]
      jwt:
        authentications:
          - issuer: ${OTHER_ISSUER}
            jwksUri: ${otherJwksUri}
    - path: /anything/{**}
      methods: [POST, GET]
      noAuth: true
`),
  };
}

describe('seeds 000/001: Kyma APIRule jwt through gRPC', () => {
  let svc: TestService;
  let svc404: TestService;
  let jwks: JwksServer;
  let key: TestKey;
  let otherKey: TestKey;
  let stranger: TestKey;
  const token = (claims: Record<string, unknown> = {}): Promise<string> => mintToken(key, { iss: ISSUER, sub: 'alice', ...claims });
  const bearer = async (claims: Record<string, unknown> = {}): Promise<Record<string, string>> => ({ authorization: `Bearer ${await token(claims)}` });

  beforeAll(async () => {
    key = await generateTestKey('RS256', 'kyma-1');
    otherKey = await generateTestKey('ES256', 'other-1');
    // Same kid as the real key, different key material: a forged signature.
    stranger = await generateTestKey('RS256', 'kyma-1');
    jwks = await startJwksServer({ '/jwks.json': { body: jwksOf(key) }, '/other.json': { body: jwksOf(otherKey) } });
    const docs = documents(`${jwks.url}/jwks.json`, `${jwks.url}/other.json`);
    svc = await startTestService(docs);
    svc404 = await startTestService(docs, { 'kyma-unmatched-status': '404' });
  });
  afterAll(async () => {
    await svc.close();
    await svc404.close();
    await jwks.close();
  });

  async function status(host: string, input: CheckRequestInput, service: TestService = svc): Promise<number> {
    return httpStatusOf(await service.check({ host, method: 'GET', ...input }));
  }

  describe('minimal configuration: any valid token of the issuer', () => {
    it.each([
      { name: 'a valid token is allowed', headers: () => bearer(), expected: 200 },
      { name: 'no token is 403 (RBAC: access denied)', headers: () => Promise.resolve({}), expected: 403 },
      { name: 'a token without sub has no request principal: 403', headers: () => bearer({ sub: undefined }), expected: 403 },
      { name: 'an expired token is 401', headers: () => bearer({ exp: Math.floor(Date.now() / 1000) - 3600 }), expected: 401 },
      { name: 'a forged signature is 401', headers: async () => ({ authorization: `Bearer ${await mintToken(stranger, { iss: ISSUER, sub: 'alice' })}` }), expected: 401 },
      { name: 'garbage in the Authorization header is 401', headers: () => Promise.resolve({ authorization: 'Bearer not.a.jwt' }), expected: 401 },
      { name: 'an issuer configured nowhere is 401', headers: async () => ({ authorization: `Bearer ${await mintToken(key, { iss: 'https://nowhere.example.com', sub: 'a' })}` }), expected: 401 },
      { name: 'a lower-case bearer scheme is no token: 403', headers: async () => ({ authorization: `bearer ${await token()}` }), expected: 403 },
    ])('$name', async ({ headers, expected }) => {
      expect(await status('minimal.example.com', { path: '/headers', headers: await headers() })).toBe(expected);
    });

    it('a token in ?access_token (a default location) is allowed', async () => {
      expect(await status('minimal.example.com', { path: `/headers?access_token=${await token()}` })).toBe(200);
    });

    it('the token is forwarded upstream (Kyma forces forwardOriginalToken)', async () => {
      const resp = await svc.check({ host: 'minimal.example.com', path: '/headers', headers: await bearer() });
      expect(httpStatusOf(resp)).toBe(200);
      expect(headersToRemove(resp)).not.toContain('authorization');
      expect(resp.ok_response?.query_parameters_to_remove ?? []).toEqual([]);
    });

    it('an invalid token gets a Bearer challenge', async () => {
      const resp = await svc.check({ host: 'minimal.example.com', path: '/headers', headers: { authorization: 'Bearer not.a.jwt' } });
      expect(headerOf(resp, 'www-authenticate')).toMatch(/^Bearer realm="http:\/\/minimal\.example\.com\/headers", error="invalid_token"$/);
    });

    it.each([
      { name: 'an unrouted method', method: 'POST', path: '/headers' },
      { name: 'an unrouted path', method: 'GET', path: '/ip' },
    ])('$name is 403 by default, 404 with --kyma-unmatched-status 404', async ({ method, path }) => {
      expect(await status('minimal.example.com', { method, path, headers: await bearer() })).toBe(403);
      const resp = await svc404.check({ host: 'minimal.example.com', method, path, headers: await bearer() });
      expect(httpStatusOf(resp)).toBe(404);
      expect(bodyOf(resp)).toMatchObject({ error: 'no_route' });
    });

    it('with --kyma-unmatched-status 404 a routed jwt rule without token is still 403', async () => {
      expect(await status('minimal.example.com', { path: '/headers' }, svc404)).toBe(403);
    });

    it('the host is matched case-insensitively, port ignored', async () => {
      expect(await status('MINIMAL.Example.com:443', { path: '/headers' })).toBe(403);
      expect(await status('MINIMAL.Example.com:443', { path: '/headers', headers: await bearer() })).toBe(200);
    });

    it('a host no APIRule names is not governed by them', async () => {
      expect(await status('unrelated.example.com', { path: '/headers' })).toBe(200);
    });
  });

  describe('authentications: a custom header with prefix and fromParameters', () => {
    it.each([
      { name: 'X-JWT-Assertion with the "Kyma " prefix', input: async () => ({ headers: { 'x-jwt-assertion': `Kyma ${await token()}` } }), expected: 200 },
      { name: 'X-JWT-Assertion without the prefix holds no token: 403', input: async () => ({ headers: { 'x-jwt-assertion': await token() } }), expected: 403 },
      { name: 'the ?access_token parameter (fromParameters read as fromParams)', input: async () => ({ path: `/headers?access_token=${await token()}` }), expected: 200 },
      { name: 'Authorization: Bearer is not a location of this rule: 403', input: async () => ({ headers: await bearer() }), expected: 403 },
      { name: 'a bad token with the prefix is 401', input: () => Promise.resolve({ headers: { 'x-jwt-assertion': 'Kyma not.a.jwt' } }), expected: 401 },
    ])('$name', async ({ input, expected }) => {
      expect(await status('headers.example.com', { path: '/headers', ...(await input()) })).toBe(expected);
    });
  });

  describe('authorizations: requiredScopes [read, write] in scp / scope / scopes, audiences [app1]', () => {
    it.each([
      { name: 'scp list with both and aud', claims: { scp: ['read', 'write'], aud: 'app1' }, expected: 200 },
      { name: 'scope string with both and aud in a list', claims: { scope: 'write read', aud: ['x', 'app1'] }, expected: 200 },
      { name: 'scopes list with both and aud', claims: { scopes: ['read', 'write'], aud: 'app1' }, expected: 200 },
      { name: 'scp as a space-delimited string is not split: 403', claims: { scp: 'read write', aud: 'app1' }, expected: 403 },
      { name: 'scopes split across scp and scope: 403', claims: { scp: ['read'], scope: 'write', aud: 'app1' }, expected: 403 },
      { name: 'one scope missing: 403', claims: { scope: 'read', aud: 'app1' }, expected: 403 },
      { name: 'audience missing: 403', claims: { scope: 'read write' }, expected: 403 },
      { name: 'another audience: 403', claims: { scope: 'read write', aud: 'app2' }, expected: 403 },
    ])('$name', async ({ claims, expected }) => {
      expect(await status('authz.example.com', { path: '/headers', headers: await bearer(claims) })).toBe(expected);
    });
  });

  describe('seed 001: required scope "test"', () => {
    it.each([
      { name: 'a token holding the scope test', claims: { scope: 'openid test' }, expected: 200 },
      { name: 'a token holding it in scp', claims: { scp: ['test'] }, expected: 200 },
      { name: 'a token without it: 403', claims: { scope: 'openid' }, expected: 403 },
    ])('$name', async ({ claims, expected }) => {
      expect(await status('httpbin.example.com', { path: '/headers', headers: await bearer(claims) })).toBe(expected);
    });
  });

  describe('rule order: the first matching rule wins', () => {
    it.each([
      { name: 'POST /anything/x/one without token: 403', method: 'POST', path: '/anything/x/one', auth: false, expected: 403 },
      { name: 'POST /anything/x/one with token', method: 'POST', path: '/anything/x/one', auth: true, expected: 200 },
      { name: 'GET /anything/x/one is excluded from the open rule: 403', method: 'GET', path: '/anything/x/one', auth: false, expected: 403 },
      { name: 'GET /anything/more is open', method: 'GET', path: '/anything/more', auth: false, expected: 200 },
      { name: 'POST /anything/more is open', method: 'POST', path: '/anything/more', auth: false, expected: 200 },
      { name: 'DELETE /anything/more is routed by no rule: 403', method: 'DELETE', path: '/anything/more', auth: false, expected: 403 },
    ])('$name', async ({ method, path, auth, expected }) => {
      expect(await status('order.example.com', { method, path, headers: auth ? await bearer() : {} })).toBe(expected);
    });

    it('a garbage token on an open path is still 401 (authentication covers every routed path of the host)', async () => {
      expect(await status('order.example.com', { path: '/anything/more', headers: { authorization: 'Bearer not.a.jwt' } })).toBe(401);
    });

    it('a token of the issuer of another rule verifies but is 403 on this rule', async () => {
      const other = { authorization: `Bearer ${await mintToken(otherKey, { iss: OTHER_ISSUER, sub: 'bob' })}` };
      expect(await status('order.example.com', { path: '/other-idp', headers: other })).toBe(200);
      expect(await status('order.example.com', { method: 'POST', path: '/anything/x/one', headers: other })).toBe(403);
      expect(await status('order.example.com', { path: '/other-idp', headers: await bearer() })).toBe(403);
    });
  });

  it('fetched both key sets from the local server', () => {
    expect(jwks.count('/jwks.json')).toBeGreaterThanOrEqual(1);
    expect(jwks.count('/other.json')).toBeGreaterThanOrEqual(1);
  });

  it('loaded every example with the fromParameters warning only', () => {
    const warnings = svc.logs.filter((l) => l.includes('fromParameters'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
  });
});
