import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.js';
import { generateTestKey, jwksOf, mintToken, type TestKey } from '../helpers/tokens.js';
import { bodyOf, headerOf, httpStatusOf } from '../helpers/upstream-client.js';

// Seed 003 (Istio/ASM FAQ): RequestAuthentication with inline jwks + DENY notRequestPrincipals ['*'] / notPaths
// ['/productpage'], loaded unchanged (v1beta1, ingress gateway selector) and driven through real gRPC.
const ISSUER = 'testing@secure.istio.io';

function seedPolicies(jwks: string): string {
  return `apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata:
  name: jwt-example
  namespace: istio-system
spec:
  jwtRules:
  - issuer: ${ISSUER}
    jwks: >-
      ${jwks}
  selector:
    matchLabels:
      app: istio-ingressgateway
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: test-exclude
  namespace: istio-system
spec:
  action: DENY
  rules:
  - from:
    - source:
        notRequestPrincipals:
        - '*'
    to:
    - operation:
        notPaths:
        - /productpage
  selector:
    matchLabels:
      app: istio-ingressgateway
`;
}

describe('seed 003: skip JWT authentication for /productpage', () => {
  let svc: TestService;
  let key: TestKey;
  let token: string;
  const gateway = { app: 'istio-ingressgateway' };

  beforeAll(async () => {
    key = await generateTestKey('RS256', 'DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ');
    token = await mintToken(key, { iss: ISSUER, sub: ISSUER, foo: 'bar' });
    svc = await startTestService({ 'seed.yaml': seedPolicies(jwksOf(key)) });
  });
  afterAll(async () => svc.close());

  it.each([
    { path: '/productpage', auth: false, expected: 200 },
    { path: '/api/v1/products/0', auth: false, expected: 403 },
    { path: '/api/v1/products/1', auth: false, expected: 403 },
    { path: '/productpage', auth: true, expected: 200 },
    { path: '/api/v1/products/0', auth: true, expected: 200 },
    { path: '/api/v1/products/1', auth: true, expected: 200 },
  ])('$path with token=$auth answers $expected', async ({ path, auth, expected }) => {
    const headers: Record<string, string> = auth ? { authorization: `Bearer ${token}` } : {};
    const resp = await svc.check({ path, headers, contextExtensions: gateway });
    expect(httpStatusOf(resp)).toBe(expected);
  });

  it('rejects a garbage token even on the exempt path, with a Bearer challenge', async () => {
    const resp = await svc.check({ path: '/productpage?x=1', headers: { authorization: 'Bearer garbage' }, contextExtensions: gateway });
    expect(httpStatusOf(resp)).toBe(401);
    expect(headerOf(resp, 'www-authenticate')).toBe('Bearer realm="http://example.com/productpage", error="invalid_token"');
    expect(bodyOf(resp)).toMatchObject({ error: 'token_malformed' });
  });

  it('does not apply to a route labelled as another workload', async () => {
    const resp = await svc.check({ path: '/api/v1/products/0', contextExtensions: { app: 'productpage' } });
    expect(httpStatusOf(resp)).toBe(200);
  });

  it('applies when the route carries no labels (Istio CUSTOM sends none): fail closed', async () => {
    const resp = await svc.check({ path: '/api/v1/products/0' });
    expect(httpStatusOf(resp)).toBe(403);
  });
});
