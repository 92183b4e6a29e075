/** The model an APIRule compiles to: authentication entries, token locations, providers, policy shape. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCATIONS, type TokenLocation } from '../../../../../src/model/policy.js';
import { HOST, ISSUER, JWKS, apiRule, authnFor, compileOk, decide, jwt, request } from './harness.js';

const twoIssuers = `jwt:
  authentications:
    - issuer: ${ISSUER}
      jwksUri: ${JWKS}
    - issuer: https://second.example.com
      jwksUri: https://second.example.com/keys`;

function withAuth(auth: string): string {
  return apiRule(`- path: /p\n  methods: [GET]\n  jwt:\n    authentications:\n      - issuer: ${ISSUER}\n        jwksUri: ${JWKS}\n${auth.replace(/^/gm, '        ')}`);
}

describe('WorkloadAuthn entries', () => {
  const f = compileOk(
    apiRule(`- path: /a\n  methods: [GET]\n  ${twoIssuers.replace(/\n/g, '\n  ')}\n- path: /b\n  methods: [GET]\n  ${twoIssuers.replace(/\n/g, '\n  ')}\n- path: /c\n  methods: [GET]\n  noAuth: true`),
  );

  it('one per (rule, authentication); none for noAuth rules', () => {
    expect(f.workloadAuthn.map((w) => w.id)).toEqual([
      'policies/kyma.yaml#1 spec.rules[0].jwt.authentications[0]',
      'policies/kyma.yaml#1 spec.rules[0].jwt.authentications[1]',
      'policies/kyma.yaml#1 spec.rules[1].jwt.authentications[0]',
      'policies/kyma.yaml#1 spec.rules[1].jwt.authentications[1]',
    ]);
  });

  it('always forwards the original token, as Kyma forces', () => {
    expect(f.workloadAuthn.every((w) => w.forwardOriginalToken)).toBe(true);
  });

  it('providers fetch the jwksUri with the default timeout and carry no audiences', () => {
    const p = f.workloadAuthn[1]?.provider;
    expect(p?.issuer).toBe('https://second.example.com');
    expect(p?.keys).toEqual({ kind: 'remote', uri: 'https://second.example.com/keys', timeoutMs: 5000 });
    expect(p?.audiences).toEqual([]);
    expect(p?.clockSkewSec).toBe(60);
    expect(p?.audienceMismatchStatus).toBe(403);
  });

  it.each([
    { name: 'a routed path on the host', method: 'GET', path: '/c', host: HOST, count: 4 },
    { name: 'the host in upper case', method: 'GET', path: '/a', host: 'API.EXAMPLE.COM', count: 4 },
    { name: 'an unrouted method (Kyma: the gateway answers before any JWT check)', method: 'POST', path: '/a', host: HOST, count: 0 },
    { name: 'an unrouted path', method: 'GET', path: '/d', host: HOST, count: 0 },
    { name: 'another host', method: 'GET', path: '/a', host: 'other.example.com', count: 0 },
  ])('apply to $name: $count', ({ method, path, host, count }) => {
    expect(authnFor(f, request(method, path, host))).toHaveLength(count);
  });

  it('options set the JWKS timeout and the exp requirement', () => {
    const g = compileOk(apiRule(`- path: /a\n  methods: [GET]\n  ${jwt().replace(/\n/g, '\n  ')}`), { defaultJwksTimeoutMs: 1234, requireExpiration: true });
    expect(g.workloadAuthn[0]?.provider.keys).toMatchObject({ timeoutMs: 1234 });
    expect(g.workloadAuthn[0]?.provider.requireExpiration).toBe(true);
  });
});

describe('token locations', () => {
  it.each([
    { name: 'no fromHeaders/fromParams: Authorization Bearer and ?access_token', auth: '', expected: DEFAULT_LOCATIONS },
    {
      name: 'fromHeaders with a prefix: the header, lower-cased, and the prefix verbatim',
      auth: 'fromHeaders: [{ name: X-JWT-Assertion, prefix: "Kyma " }]',
      expected: [{ kind: 'header', name: 'x-jwt-assertion', prefix: 'Kyma ' }],
    },
    {
      name: 'fromHeaders without a prefix: the whole value (Kyma copies the prefix verbatim)',
      auth: 'fromHeaders: [{ name: X-Token }]',
      expected: [{ kind: 'header', name: 'x-token', prefix: '' }],
    },
    { name: 'fromParams', auth: 'fromParams: [jwt]', expected: [{ kind: 'query', name: 'jwt' }] },
    { name: 'fromParameters (seed 000 spelling) as fromParams', auth: 'fromParameters: [access_token]', expected: [{ kind: 'query', name: 'access_token' }] },
    { name: 'empty lists count as unset', auth: 'fromHeaders: []\nfromParams: []', expected: DEFAULT_LOCATIONS },
  ] satisfies { name: string; auth: string; expected: readonly TokenLocation[] }[])('$name', ({ auth, expected }) => {
    const f = compileOk(withAuth(auth));
    expect(f.workloadAuthn[0]?.locations).toEqual(expected);
  });
});

describe('authorization policies', () => {
  it('one routed policy (403 when no rule allows) and one unrouted policy with the configured status', () => {
    const f = compileOk(apiRule(`- path: /a\n  methods: [GET]\n  noAuth: true`), { kymaUnmatchedStatus: 404 });
    expect(f.authorizationPolicies.map((p) => [p.name, p.action, p.unmatchedStatus, p.rules.length, p.dryRun])).toEqual([
      ['test/httpbin', 'ALLOW', 403, 1, false],
      ['test/httpbin (no rule)', 'ALLOW', 404, 0, false],
    ]);
  });

  it.each([
    { name: 'no authorizations: one rule', authz: undefined, rules: [''] },
    { name: 'audiences only: one rule', authz: '[{ audiences: [a] }]', rules: ['.jwt.authorizations[0]'] },
    {
      name: 'requiredScopes: one rule per scope claim',
      authz: '[{ requiredScopes: [read] }]',
      rules: ['.jwt.authorizations[0] (scp)', '.jwt.authorizations[0] (scope)', '.jwt.authorizations[0] (scopes)'],
    },
    {
      name: 'two entries: rules for each, in order',
      authz: '[{ audiences: [a] }, { requiredScopes: [x] }]',
      rules: ['.jwt.authorizations[0]', '.jwt.authorizations[1] (scp)', '.jwt.authorizations[1] (scope)', '.jwt.authorizations[1] (scopes)'],
    },
    { name: 'an empty entry: one rule with the principal only', authz: '[{}]', rules: ['.jwt.authorizations[0]'] },
  ])('rule names — $name', ({ authz, rules }) => {
    const f = compileOk(apiRule(`- path: /a\n  methods: [GET]\n  ${jwt(authz).replace(/\n/g, '\n  ')}`));
    expect(f.authorizationPolicies[0]?.rules.map((r) => r.name)).toEqual(rules.map((r) => `test/httpbin spec.rules[0]${r}`));
  });

  it.each([
    { host: 'x.example.com', path: '/a', expected: 'allow' },
    { host: 'x.example.com', path: '/b', expected: 403 },
    { host: 'a.b.example.com', path: '/b', expected: 403 },
    { host: 'X.EXAMPLE.com', path: '/b', expected: 403 },
    { host: 'example.com', path: '/b', expected: 'allow' },
    { host: 'xexample.com', path: '/b', expected: 'allow' },
  ] as const)('a wildcard host *.example.com: $host$path → $expected', ({ host, path, expected }) => {
    const f = compileOk(apiRule(`- path: /a\n  methods: [GET]\n  noAuth: true`, { host: '*.example.com' }));
    expect(decide(f, request('GET', path, host), undefined)).toBe(expected);
  });

  it('the compiled fragment is frozen', () => {
    const f = compileOk(apiRule(`- path: /a\n  methods: [GET]\n  ${jwt().replace(/\n/g, '\n  ')}`));
    expect(Object.isFrozen(f)).toBe(true);
    expect(Object.isFrozen(f.workloadAuthn[0]?.provider)).toBe(true);
    expect(Object.isFrozen(f.authorizationPolicies[0]?.rules)).toBe(true);
  });

  it('v2alpha1 compiles to the same model as v2', () => {
    const rules = `- path: /a\n  methods: [GET]\n  ${jwt('[{ requiredScopes: [r] }]').replace(/\n/g, '\n  ')}`;
    expect(JSON.stringify(compileOk(apiRule(rules, { version: 'v2alpha1' })))).toBe(JSON.stringify(compileOk(apiRule(rules))));
  });
});
