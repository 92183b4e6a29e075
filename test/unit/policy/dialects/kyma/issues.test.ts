/** Documents Kyma (or this service) rejects: each problem is an issue at its field path (semantics §4.2). */
import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../../../../src/policy/config-issue.js';
import { ISSUER, JWKS, apiRule, compileYaml, jwt } from './harness.js';

const j = (authz?: string): string => jwt(authz).replace(/\n/g, '\n  ');
const auth = (extra: string): string =>
  `jwt:\n    authentications:\n      - issuer: ${ISSUER}\n        jwksUri: ${JWKS}\n${extra.replace(/^/gm, '        ')}`;

interface IssueCase {
  readonly name: string;
  readonly yaml: string;
  readonly path: string;
  readonly message: RegExp;
}

const errorCases: IssueCase[] = [
  { name: 'v1beta1 is not supported', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true', { version: 'v1beta1' }), path: 'apiVersion', message: /not supported; migrate to gateway\.kyma-project\.io\/v2/ },
  { name: 'v1alpha1 is not supported', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true', { version: 'v1alpha1' }), path: 'apiVersion', message: /not supported/ },
  { name: 'an unknown version', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true', { version: 'v3' }), path: 'apiVersion', message: /supported: v2, v2alpha1/ },
  {
    name: 'the legacy accessStrategies shape (seed 001) in a v2 document',
    yaml: apiRule(`- path: /headers\n  methods: [GET]\n  accessStrategies:\n    - handler: jwt\n      config: {}`),
    path: 'spec.rules[0].accessStrategies',
    message: /v1beta1 shape: in v2 write jwt/,
  },
  { name: 'an unknown field, reported at its own path', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true\n  colour: blue'), path: 'spec.rules[0].colour', message: /unknown field "colour"/ },
  { name: 'a type error', yaml: apiRule('- path: /a\n  methods: GET\n  noAuth: true'), path: 'spec.rules[0].methods', message: /expected array/ },
  { name: 'a method outside the allowed set', yaml: apiRule('- path: /a\n  methods: [GET, FETCH]\n  noAuth: true'), path: 'spec.rules[0].methods[1]', message: /expected one of/ },
  { name: 'a lower-case method', yaml: apiRule('- path: /a\n  methods: [get]\n  noAuth: true'), path: 'spec.rules[0].methods[0]', message: /expected one of/ },
  { name: 'an empty method list', yaml: apiRule('- path: /a\n  methods: []\n  noAuth: true'), path: 'spec.rules[0].methods', message: /at least one method/ },
  { name: 'an empty rule list', yaml: apiRule('[]').replace('rules:\n    []', 'rules: []'), path: 'spec.rules', message: /at least one rule/ },
  {
    name: 'two hosts',
    yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true').replace("hosts: ['api.example.com']", 'hosts: [a.example.com, b.example.com]'),
    path: 'spec.hosts',
    message: /exactly one host/,
  },
  { name: 'an upper-case host', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true', { host: 'API.example.com' }), path: 'spec.hosts[0]', message: /lower-case/ },
  { name: 'a short host name', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true', { host: 'httpbin' }), path: 'spec.hosts[0]', message: /short host name/ },
  { name: 'a regex path', yaml: apiRule('- path: /foo.*\n  methods: [GET]\n  noAuth: true'), path: 'spec.rules[0].path', message: /exact path/ },
  { name: 'a partial-segment operator', yaml: apiRule('- path: /foo{*}\n  methods: [GET]\n  noAuth: true'), path: 'spec.rules[0].path', message: /exact path/ },
  { name: 'two {**}', yaml: apiRule('- path: /a/{**}/b/{**}\n  methods: [GET]\n  noAuth: true'), path: 'spec.rules[0].path', message: /only one \{\*\*\}/ },
  { name: '{*} after {**}', yaml: apiRule('- path: /a/{**}/{*}\n  methods: [GET]\n  noAuth: true'), path: 'spec.rules[0].path', message: /must be the last operator/ },
  { name: 'no access strategy', yaml: apiRule('- path: /a\n  methods: [GET]'), path: 'spec.rules[0]', message: /exactly one of/ },
  { name: 'noAuth: false alone', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: false'), path: 'spec.rules[0]', message: /exactly one of/ },
  { name: 'noAuth together with jwt', yaml: apiRule(`- path: /a\n  methods: [GET]\n  noAuth: true\n  ${j()}`), path: 'spec.rules[0]', message: /exactly one of/ },
  { name: 'extAuth', yaml: apiRule('- path: /a\n  methods: [GET]\n  extAuth:\n    authorizers: [oauth2-proxy]'), path: 'spec.rules[0].extAuth', message: /extAuth is not supported here/ },
  { name: 'jwt without authentications', yaml: apiRule('- path: /a\n  methods: [GET]\n  jwt: {}'), path: 'spec.rules[0].jwt.authentications', message: /at least one authentication/ },
  { name: 'an empty authentications list', yaml: apiRule('- path: /a\n  methods: [GET]\n  jwt: { authentications: [] }'), path: 'spec.rules[0].jwt.authentications', message: /at least one authentication/ },
  {
    name: 'an empty issuer',
    yaml: apiRule(`- path: /a\n  methods: [GET]\n  jwt:\n    authentications: [{ issuer: "", jwksUri: ${JWKS} }]`),
    path: 'spec.rules[0].jwt.authentications[0].issuer',
    message: /value is empty/,
  },
  {
    name: 'an issuer with ":" that is no URI',
    yaml: apiRule(`- path: /a\n  methods: [GET]\n  jwt:\n    authentications: [{ issuer: "http://exa mple.com", jwksUri: ${JWKS} }]`),
    path: 'spec.rules[0].jwt.authentications[0].issuer',
    message: /not a valid URI/,
  },
  {
    name: 'a jwksUri that is not http(s)',
    yaml: apiRule(`- path: /a\n  methods: [GET]\n  jwt:\n    authentications: [{ issuer: ${ISSUER}, jwksUri: "file:///etc/keys" }]`),
    path: 'spec.rules[0].jwt.authentications[0].jwksUri',
    message: /http or https URL/,
  },
  { name: 'authorizations: []', yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${j('[]')}`), path: 'spec.rules[0].jwt.authorizations', message: /no configuration exists/ },
  { name: 'requiredScopes: []', yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${j('[{ requiredScopes: [] }]')}`), path: 'spec.rules[0].jwt.authorizations[0].requiredScopes', message: /value is empty/ },
  { name: 'an empty audience', yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${j('[{ audiences: [a, ""] }]')}`), path: 'spec.rules[0].jwt.authorizations[0].audiences[1]', message: /audience value is empty/ },
  {
    name: 'two fromHeaders',
    yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${auth('fromHeaders: [{ name: a }, { name: b }]')}`),
    path: 'spec.rules[0].jwt.authentications[0].fromHeaders',
    message: /multiple fromHeaders/,
  },
  { name: 'two fromParams', yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${auth('fromParams: [a, b]')}`), path: 'spec.rules[0].jwt.authentications[0].fromParams', message: /multiple fromParams/ },
  {
    name: 'fromHeaders and fromParams mixed across the authentications of a rule',
    yaml: apiRule(
      `- path: /a\n  methods: [GET]\n  jwt:\n    authentications:\n      - { issuer: ${ISSUER}, jwksUri: ${JWKS}, fromParams: [t] }\n      - { issuer: https://b.example.com, jwksUri: ${JWKS}, fromHeaders: [{ name: x }] }`,
    ),
    path: 'spec.rules[0].jwt.authentications[1].fromHeaders',
    message: /mixture/,
  },
  {
    name: 'fromHeaders and fromParams in one authentication (Kyma rejects it too)',
    yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${auth('fromHeaders: [{ name: x }]\nfromParams: [t]')}`),
    path: 'spec.rules[0].jwt.authentications[0].fromParams',
    message: /mixture/,
  },
  {
    name: 'fromParams and fromParameters both',
    yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${auth('fromParams: [a]\nfromParameters: [a]')}`),
    path: 'spec.rules[0].jwt.authentications[0].fromParameters',
    message: /not both/,
  },
  {
    name: 'a more general path before a more specific one sharing a method (Kyma docs example)',
    yaml: apiRule(`- path: /anything/{**}\n  methods: [POST, GET]\n  noAuth: true\n- path: /anything/{*}/one\n  methods: [POST]\n  ${j()}`),
    path: 'spec.rules[1].path',
    message: /with method POST conflicts with spec\.rules\[0\]/,
  },
  { name: 'the same path twice with a shared method', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true\n- path: /a\n  methods: [GET, PUT]\n  noAuth: true'), path: 'spec.rules[1].path', message: /conflicts/ },
  { name: '/* before anything sharing a method', yaml: apiRule('- path: /*\n  methods: [GET]\n  noAuth: true\n- path: /\n  methods: [GET]\n  noAuth: true'), path: 'spec.rules[1].path', message: /conflicts/ },
  { name: '{*} before a literal', yaml: apiRule('- path: /u/{*}\n  methods: [GET]\n  noAuth: true\n- path: /u/me\n  methods: [GET]\n  noAuth: true'), path: 'spec.rules[1].path', message: /conflicts/ },
  {
    name: 'one issuer with two different locations',
    yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${auth('fromParams: [t]')}\n- path: /b\n  methods: [GET]\n  ${j()}`),
    path: 'spec.rules[1].jwt.authentications[0]',
    message: /differ for the same issuer/,
  },
  {
    name: 'no service on the spec nor on the rule',
    yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true').replace('  service: { name: httpbin, port: 8000 }\n', ''),
    path: 'spec.rules[0].service',
    message: /must define a service/,
  },
  { name: 'a missing metadata.name', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true').replace('  name: httpbin\n', ''), path: 'metadata.name', message: /expected string/ },
  { name: 'a gateway not in namespace/name form', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true').replace('kyma-system/kyma-gateway', 'kyma-gateway'), path: 'spec.gateway', message: /namespace\/name/ },
  { name: 'a timeout out of range', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true\n  timeout: 0'), path: 'spec.rules[0].timeout', message: /expected number to be >=1/ },
  { name: 'a service port out of range', yaml: apiRule('- path: /a\n  methods: [GET]\n  noAuth: true').replace('port: 8000', 'port: 70000'), path: 'spec.service.port', message: /<=65535/ },
];

describe('errors', () => {
  it.each(errorCases)('$name → $path', ({ yaml, path, message }) => {
    const { fragment, issues } = compileYaml(yaml);
    const errors = issues.filter((i) => i.severity === 'error');
    expect(errors.map(formatIssue)).toContainEqual(expect.stringMatching(message));
    expect(errors.find((i) => message.test(i.message))?.path).toBe(path);
    // A rejected document contributes nothing.
    expect(fragment.authorizationPolicies).toEqual([]);
    expect(fragment.workloadAuthn).toEqual([]);
  });
});

it('two APIRules on one host: the second is rejected at its host, the first still compiles', () => {
  const one = apiRule('- path: /a\n  methods: [GET]\n  noAuth: true', { name: 'one' });
  const two = apiRule('- path: /b\n  methods: [GET]\n  noAuth: true', { name: 'two' });
  const { fragment, issues } = compileYaml(`${one}---\n${two}`);
  expect(issues.map(formatIssue)).toEqual(['policies/kyma.yaml#2 spec.hosts[0]: host api.example.com is already used by the APIRule in policies/kyma.yaml#1']);
  expect(fragment.authorizationPolicies.map((p) => p.name)).toEqual(['test/one', 'test/one (no rule)']);
});

describe('accepted, with a warning', () => {
  it.each([
    {
      name: 'fromParameters (not a CRD field: Kubernetes would drop it)',
      yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${auth('fromParameters: [access_token]')}`),
      path: 'spec.rules[0].jwt.authentications[0].fromParameters',
      message: /read here as fromParams/,
    },
    {
      name: 'fromHeaders with fromParameters in one authentication (seed 000): both locations',
      yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${auth('fromHeaders: [{ name: X-JWT-Assertion, prefix: "Kyma " }]\nfromParameters: [access_token]')}`),
      path: 'spec.rules[0].jwt.authentications[0].fromParameters',
      message: /read here as fromParams/,
    },
    {
      name: 'an Authorization header without prefix',
      yaml: apiRule(`- path: /a\n  methods: [GET]\n  ${auth('fromHeaders: [{ name: Authorization }]')}`),
      path: 'spec.rules[0].jwt.authentications[0].fromHeaders[0].prefix',
      message: /"Bearer " included/,
    },
  ])('$name', ({ yaml, path, message }) => {
    const { fragment, issues } = compileYaml(yaml);
    expect(issues.map((i) => [i.severity, i.path])).toEqual([['warning', path]]);
    expect(issues[0]?.message).toMatch(message);
    expect(fragment.workloadAuthn).toHaveLength(1);
  });
});

describe('valid orders and shapes', () => {
  it.each([
    { name: 'specific before general sharing a method', rules: '- path: /u/me\n  methods: [GET]\n  noAuth: true\n- path: /u/{*}\n  methods: [GET]\n  noAuth: true' },
    { name: 'a general path before a specific one with no shared method', rules: '- path: /{**}\n  methods: [GET]\n  noAuth: true\n- path: /a\n  methods: [POST]\n  noAuth: true' },
    { name: '/abc and /abc/{**} (Kyma PR #1621)', rules: '- path: /abc/{**}\n  methods: [GET]\n  noAuth: true\n- path: /abc\n  methods: [GET]\n  noAuth: true' },
    { name: 'partly overlapping templates (first match decides)', rules: '- path: /a/{*}/c\n  methods: [GET]\n  noAuth: true\n- path: /a/b/{*}\n  methods: [GET]\n  noAuth: true' },
    { name: 'rule-level service instead of a spec one', rules: '- path: /a\n  methods: [GET]\n  noAuth: true\n  service: { name: other, port: 80 }' },
    { name: 'routing-only fields', rules: '- path: /a\n  methods: [GET]\n  noAuth: true\n  timeout: 30\n  request: { headers: { x-a: b }, cookies: { c: d } }' },
  ])('$name', ({ rules }) => {
    const { issues } = compileYaml(apiRule(rules));
    expect(issues).toEqual([]);
  });

  it('corsPolicy, timeout and kubectl status are accepted and ignored', () => {
    const yaml = apiRule('- path: /a\n  methods: [GET]\n  noAuth: true').replace(
      '  rules:',
      '  timeout: 60\n  corsPolicy: { allowOrigins: [{ exact: "https://a.example.com" }], allowMethods: [GET], maxAge: 10 }\n  rules:',
    );
    expect(compileYaml(`${yaml}status: { state: Ready }\n`).issues).toEqual([]);
  });
});
