import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { type TestService, startTestService } from '../helpers/service.js';
import { type TestKey, generateTestKey, jwksOf, mintToken } from '../helpers/tokens.js';
import { type CheckRequestInput, httpStatusOf } from '../helpers/upstream-client.js';

// One policy, three dialects: "on orders.example.com, GET /orders/{*} needs a valid token of the issuer with scope
// `read`; /health is open; everything else on the host is refused". Where the dialects document the same outcome
// the decisions must be identical; where they document different statuses (Airlock answers a missing token with
// 401, Kyma and Istio with 403) allow/deny must still agree.
const ISS = 'https://idp.example.com';
const HOST = 'orders.example.com';

function istio(jwksUri: string): string {
  return `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: orders, namespace: shop}
spec:
  jwtRules:
  - issuer: ${ISS}
    jwksUri: ${jwksUri}
    forwardOriginalToken: true
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: orders, namespace: shop}
spec:
  rules:
  - from: [{source: {requestPrincipals: ["${ISS}/*"]}}]
    to: [{operation: {hosts: ["${HOST}"], methods: ["GET"], paths: ["/orders/{*}"]}}]
    when: [{key: "request.auth.claims[scope]", values: ["read"]}]
  - to: [{operation: {hosts: ["${HOST}"], methods: ["GET"], paths: ["/health"]}}]
`;
}

function kyma(jwksUri: string): string {
  return `apiVersion: gateway.kyma-project.io/v2
kind: APIRule
metadata: {name: orders, namespace: shop}
spec:
  hosts: [${HOST}]
  gateway: kyma-system/kyma-gateway
  service: {name: orders, port: 8080}
  rules:
  - path: /health
    methods: [GET]
    noAuth: true
  - path: /orders/{*}
    methods: [GET]
    jwt:
      authentications:
      - issuer: ${ISS}
        jwksUri: ${jwksUri}
      authorizations:
      - requiredScopes: [read]
`;
}

function airlock(jwksUri: string): string {
  return `apiVersion: microgateway.airlock.com/v1alpha1
kind: JWKS
metadata: {name: idp, namespace: shop}
spec:
  provider:
    remote:
      uri: ${jwksUri}
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: JWT
metadata: {name: idp, namespace: shop}
spec:
  expirationRequired: true
  requireAny:
  - jwksRef: {name: idp}
    issuer: ${ISS}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: orders, namespace: shop}
spec:
  hostnames: [${HOST}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: orders, port: 8080}]
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: AccessControlPolicy
metadata: {name: orders, namespace: shop}
spec:
  targetRefs:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: orders}
  policies:
  - requestConditions:
      path: {matcher: {exact: /health}}
      method: [GET]
    authorization: {}
  - requestConditions:
      path: {matcher: {regex: "/orders/[^/]+"}}
      method: [GET]
    authorization:
      authentication:
        jwt:
          jwtRef: {name: idp}
      requireAll:
      - jwt:
          claim:
            name: scp
            value: {matcher: {exact: read}}
  - requestConditions:
      path: {matcher: {prefix: /}}
    authorization:
      deny: {}
`;
}

describe('the same policy in Istio, Kyma and Airlock', () => {
  let jwks: JwksServer;
  let key: TestKey;
  let other: TestKey;
  const svcs: Record<string, TestService> = {};
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    key = await generateTestKey('RS256', 'k1');
    other = await generateTestKey('RS256', 'k1');
    jwks = await startJwksServer({ '/jwks.json': { body: jwksOf(key) } });
    const uri = `${jwks.url}/jwks.json`;
    [svcs['istio'], svcs['kyma'], svcs['airlock']] = await Promise.all([
      startTestService({ 'p.yaml': istio(uri) }),
      startTestService({ 'p.yaml': kyma(uri) }),
      startTestService({ 'p.yaml': airlock(uri) }),
    ]);
    // `scope` for Istio/Kyma (split on spaces), `scp` for the Airlock claim matcher: the same grant in each vocabulary.
    tokens['reader'] = await mintToken(key, { iss: ISS, sub: 'alice', scope: 'read write', scp: 'read' });
    tokens['writer'] = await mintToken(key, { iss: ISS, sub: 'bob', scope: 'write', scp: 'write' });
    tokens['forged'] = await mintToken(other, { iss: ISS, sub: 'eve', scope: 'read', scp: 'read' });
    tokens['expired'] = await mintToken(key, { iss: ISS, sub: 'alice', scope: 'read', scp: 'read', exp: Math.floor(Date.now() / 1000) - 600 });
  });
  afterAll(async () => {
    await Promise.all(Object.values(svcs).map((s) => s.close()));
    await jwks.close();
  });

  const grid: { name: string; req: CheckRequestInput; token?: string; same: boolean }[] = [
    { name: 'GET /orders/1 with the read scope', req: { path: '/orders/1' }, token: 'reader', same: true },
    { name: 'GET /orders/1 without the read scope', req: { path: '/orders/1' }, token: 'writer', same: true },
    { name: 'GET /orders/1 with a forged token', req: { path: '/orders/1' }, token: 'forged', same: true },
    { name: 'GET /orders/1 with an expired token', req: { path: '/orders/1' }, token: 'expired', same: true },
    { name: 'GET /orders/1 without a token', req: { path: '/orders/1' }, same: false },
    { name: 'GET /orders/1/items (two segments) with a token', req: { path: '/orders/1/items' }, token: 'reader', same: true },
    { name: 'POST /orders/1 with a token', req: { path: '/orders/1', method: 'POST' }, token: 'reader', same: true },
    { name: 'GET /health without a token', req: { path: '/health' }, same: true },
    { name: 'GET /other without a token', req: { path: '/other' }, same: true },
    { name: 'GET /other with a token', req: { path: '/other' }, token: 'reader', same: true },
  ];

  it.each(grid)('$name', async ({ req, token, same }) => {
    const input: CheckRequestInput = { ...req, host: HOST, headers: token === undefined ? {} : { authorization: `Bearer ${tokens[token]}` } };
    const statuses = Object.fromEntries(await Promise.all(Object.entries(svcs).map(async ([n, s]) => [n, httpStatusOf(await s.check(input))] as const)));
    expect(statuses['kyma'], JSON.stringify(statuses)).toBe(statuses['istio']);
    if (same) expect(statuses['airlock'], JSON.stringify(statuses)).toBe(statuses['istio']);
    else expect(statuses['airlock'] === 200, JSON.stringify(statuses)).toBe(statuses['istio'] === 200);
  });

  it('fetched each remote key set once for the whole grid (cached, not per request)', () => {
    // One fetch per service (three services share the URI but not a process).
    expect(jwks.count()).toBe(3);
  });
});
