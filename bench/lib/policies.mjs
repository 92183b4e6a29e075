// A realistic Istio policy set for a web shop behind an ingress gateway: one RequestAuthentication with three
// issuers and 20 AuthorizationPolicies (ALLOW and DENY, paths, methods, `when` claims, principals, the seed-003 DENY
// exemption). Written as YAML into a directory the service reads with `--policies`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AUDIENCE, jwksOf } from './issuers.mjs';

const ROOT_NS = 'istio-system';
const INGRESS = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';

/** Paths the scenarios use, and what each must get. */
export const PATHS = Object.freeze({
  /** Needs a valid token with scope products:read (allow-products-read). */
  protected: '/api/v1/products/42?expand=reviews',
  /** Exempt from the token requirement (seed-003 notPaths) and allowed by allow-public. */
  exempt: '/public/catalog.json',
});

function authorizationPolicy(name, spec, namespace = ROOT_NS) {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec };
}

/**
 * The RequestAuthentication for the issuers (A inline, B and C remote).
 * @param {(issuer: object) => string} jwksUriOf
 */
export function requestAuthentication(issuers, jwksUriOf) {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'shop-issuers', namespace: ROOT_NS },
    spec: {
      jwtRules: issuers.map((issuer) => ({
        issuer: issuer.iss,
        audiences: [AUDIENCE],
        ...(issuer.keySource === 'inline' ? { jwks: jwksOf(issuer) } : { jwksUri: jwksUriOf(issuer) }),
        forwardOriginalToken: issuer.id === 'a',
        outputClaimToHeaders: [
          { header: 'x-jwt-sub', claim: 'sub' },
          { header: 'x-jwt-tenant', claim: 'tenant' },
          { header: 'x-jwt-email', claim: 'email' },
        ],
      })),
    },
  };
}

/** The 20 AuthorizationPolicies. Only allow-products-read and allow-public match the scenario requests. */
export function authorizationPolicies(issuers) {
  const anyIssuer = issuers.map((i) => `${i.iss}/*`);
  const issuerA = issuers.find((i) => i.id === 'a');
  return [
    // seed-003: deny requests without a request principal, except on the public paths.
    authorizationPolicy('require-jwt', {
      action: 'DENY',
      rules: [{ from: [{ source: { notRequestPrincipals: ['*'] } }], to: [{ operation: { notPaths: ['/productpage', '/public/*'] } }] }],
    }),
    authorizationPolicy('allow-public', {
      action: 'ALLOW',
      rules: [{ to: [{ operation: { methods: ['GET', 'HEAD'], paths: ['/productpage', '/public/*', '/healthz'] } }] }],
    }),
    authorizationPolicy('allow-products-read', {
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: [INGRESS], requestPrincipals: anyIssuer } }],
          to: [{ operation: { methods: ['GET', 'HEAD'], paths: ['/api/v1/products', '/api/v1/products/*'] } }],
          when: [
            { key: 'request.auth.claims[scope]', values: ['products:read'] },
            { key: 'request.auth.audiences', values: [AUDIENCE] },
          ],
        },
      ],
    }),
    authorizationPolicy('allow-orders', {
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { requestPrincipals: anyIssuer } }],
          to: [{ operation: { methods: ['GET'], paths: ['/api/v1/orders', '/api/v1/orders/*'] } }],
          when: [{ key: 'request.auth.claims[scope]', values: ['orders:read'] }],
        },
        {
          from: [{ source: { requestPrincipals: anyIssuer } }],
          to: [{ operation: { methods: ['POST', 'PUT'], paths: ['/api/v1/orders/*'] } }],
          when: [{ key: 'request.auth.claims[scope]', values: ['orders:write'] }],
        },
      ],
    }),
    authorizationPolicy('allow-cart', {
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { requestPrincipals: [`${issuerA.iss}/*`] } }],
          to: [{ operation: { methods: ['GET', 'PUT', 'DELETE'], paths: ['/api/v1/cart/*'] } }],
          when: [{ key: 'request.auth.claims[scope]', values: ['cart:write'] }],
        },
      ],
    }),
    authorizationPolicy('allow-reviews', {
      action: 'ALLOW',
      rules: [{ to: [{ operation: { methods: ['GET', 'POST'], paths: ['/api/v1/reviews/{*}/comments'] } }], when: [{ key: 'request.auth.claims[groups]', values: ['reviewers'] }] }],
    }),
    authorizationPolicy('allow-admin', {
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { requestPrincipals: [`${issuerA.iss}/*`] } }],
          to: [{ operation: { paths: ['/admin/*'] } }],
          when: [{ key: 'request.auth.claims[groups]', values: ['admins', 'shop-operators'] }],
        },
      ],
    }),
    authorizationPolicy('allow-search-v2', {
      action: 'ALLOW',
      rules: [{ to: [{ operation: { methods: ['GET'], paths: ['/api/v2/search'] } }], when: [{ key: 'request.headers[x-api-version]', values: ['2', '3'] }] }],
    }),
    authorizationPolicy('allow-partner-api', {
      action: 'ALLOW',
      rules: [{ to: [{ operation: { hosts: ['partner.bench.example', 'partner.bench.example:*'], paths: ['/partner/*'] } }], when: [{ key: 'request.auth.audiences', values: ['partner-api'] }] }],
    }),
    authorizationPolicy('allow-support', {
      action: 'ALLOW',
      rules: [{ to: [{ operation: { paths: ['/support/*'] } }], when: [{ key: 'request.auth.claims[realm_access][roles]', values: ['support'] }] }],
    }),
    authorizationPolicy('allow-metrics-scrape', {
      action: 'ALLOW',
      rules: [{ from: [{ source: { namespaces: ['monitoring'] } }], to: [{ operation: { methods: ['GET'], paths: ['/metrics', '/stats/prometheus'] } }] }],
    }),
    authorizationPolicy('allow-grpc-catalog', {
      action: 'ALLOW',
      rules: [{ from: [{ source: { requestPrincipals: anyIssuer } }], to: [{ operation: { methods: ['POST'], paths: ['/shop.v1.Catalog/*'] } }] }],
    }),
    authorizationPolicy('deny-blocked-users', {
      action: 'DENY',
      rules: [{ when: [{ key: 'request.auth.claims[sub]', values: ['user-a-blocked', 'user-b-blocked', 'user-c-blocked', 'fraud-*'] }] }],
    }),
    authorizationPolicy('deny-abuse-networks', {
      action: 'DENY',
      rules: [{ from: [{ source: { remoteIpBlocks: ['198.51.100.0/24', '192.0.2.128/25', '2001:db8:dead::/48'] } }] }],
    }),
    authorizationPolicy('deny-product-writes', {
      action: 'DENY',
      rules: [{ to: [{ operation: { methods: ['DELETE', 'PATCH'], paths: ['/api/v1/products/*'] } }], when: [{ key: 'request.auth.claims[groups]', notValues: ['catalog-editors'] }] }],
    }),
    authorizationPolicy('deny-v3-without-beta', {
      action: 'DENY',
      rules: [{ to: [{ operation: { paths: ['/api/v3/*'] } }], when: [{ key: 'request.auth.claims[groups]', notValues: ['beta'] }] }],
    }),
    authorizationPolicy('deny-internal-paths', {
      action: 'DENY',
      rules: [{ to: [{ operation: { paths: ['/internal/*', '/actuator/*', '*.git', '*.env'] } }] }],
    }),
    authorizationPolicy('deny-scanners', {
      action: 'DENY',
      rules: [{ when: [{ key: 'request.headers[user-agent]', values: ['sqlmap*', 'Nikto*', 'masscan*'] }] }],
    }),
    authorizationPolicy('deny-debug-header', {
      action: 'DENY',
      rules: [{ to: [{ operation: { notHosts: ['debug.bench.example'] } }], when: [{ key: 'request.headers[x-debug-override]', values: ['*'] }] }],
    }),
    // Namespaced: applies to requests whose destination is in `shop` (the scenario requests are).
    authorizationPolicy(
      'deny-foreign-tenants',
      { action: 'DENY', rules: [{ from: [{ source: { requestPrincipals: ['*'] } }], when: [{ key: 'request.auth.claims[tenant]', values: ['evil-corp', 'suspended-*'] }] }] },
      'shop',
    ),
  ];
}

/** Writes the policy set to `<dir>/`: one file for authentication, one multi-document file for authorization. */
export function writePolicies(dir, issuers, jwksUriOf) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '00-request-authentication.yaml'), stringify(requestAuthentication(issuers, jwksUriOf), { lineWidth: 0 }));
  const docs = authorizationPolicies(issuers).map((d) => stringify(d, { lineWidth: 0 }));
  writeFileSync(join(dir, '10-authorization-policies.yaml'), docs.join('---\n'));
  return { files: 2, authorizationPolicies: docs.length };
}
