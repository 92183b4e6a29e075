/**
 * Documents the Airlock dialect refuses, with the field path of each issue: strict schemas (unknown fields, wrong
 * types), the CRDs' CEL rules and limits, references to missing objects, and parts we cannot enforce.
 */
import { describe, expect, it } from 'vitest';
import { FILES, acp, issuesOf, preamble } from './harness.js';

const jwtAuth = 'authentication: { jwt: { jwtRef: { name: jwt } } }';

interface Case {
  readonly name: string;
  readonly yaml: string;
  /** `path: message` fragments, each expected in some issue. */
  readonly expected: readonly string[];
}

function run(cases: readonly Case[]): void {
  it.each(cases)('$name', ({ yaml, expected }) => {
    const issues = issuesOf(yaml, FILES);
    for (const e of expected) expect(issues.some((i) => i.includes(e)), `${e} in ${JSON.stringify(issues)}`).toBe(true);
  });
}

function jwks(spec: string): string {
  return `apiVersion: microgateway.airlock.com/v1alpha1\nkind: JWKS\nmetadata: { name: k }\nspec:\n${spec.replace(/^/gm, '  ')}\n`;
}

describe('JWKS', () => {
  run([
    { name: 'an unknown field is refused with its path', yaml: jwks('provider: { remote: { uri: https://idp/jwks, timeout: 5s } }'), expected: ['spec.provider.remote: Unrecognized key'] },
    { name: 'both local and remote', yaml: jwks('provider: { local: { jwksFile: keys.json }, remote: { uri: https://idp/jwks } }'), expected: ['spec.provider: exactly one of local, remote'] },
    { name: 'a uri that is not http(s)', yaml: jwks('provider: { remote: { uri: ftp://idp/jwks } }'), expected: ['spec.provider.remote.uri: must start with http:// or https://'] },
    { name: 'a zero timeout', yaml: jwks("provider: { remote: { uri: https://idp/jwks, timeouts: { connect: '0s' } } }"), expected: ['spec.provider.remote.timeouts.connect: duration "0s" must be greater than 0'] },
    { name: 'a timeout that is not a duration', yaml: jwks('provider: { remote: { uri: https://idp/jwks, timeouts: { maxDuration: 5 } } }'), expected: ['spec.provider.remote.timeouts.maxDuration: Invalid input'] },
    { name: 'a missing local file', yaml: jwks('provider: { local: { jwksFile: missing.json } }'), expected: ['spec.provider.local.jwksFile: cannot read JWKS file missing.json'] },
    { name: 'a Secret reference is read from .secrets/<name>/jwks.json', yaml: jwks('provider: { local: { secretRef: { name: idp } } }'), expected: ['spec.provider.local.secretRef: cannot read JWKS file .secrets/idp/jwks.json'] },
    { name: 'pinning is refused rather than ignored', yaml: jwks('provider: { remote: { uri: https://idp/jwks, tls: { certificateVerification: { custom: { certificatePinning: { allowedHashes: [ab] } } } } } }'), expected: ['certificatePinning: certificatePinning is not supported'] },
    { name: 'a protocol range is refused rather than ignored', yaml: jwks("provider: { remote: { uri: https://idp/jwks, tls: { protocol: { minimum: TLSv1_3 } } } }"), expected: ['spec.provider.remote.tls.protocol: protocol is not supported'] },
  ]);
  it('an invalid JWKS file is refused without echoing its content', () => {
    const issues = issuesOf(jwks('provider: { local: { jwksFile: bad.json } }'), { 'bad.json': '{"keys": [{"kty": "RSA", "d": "SECRET"' });
    expect(issues).toEqual(['spec.provider.local.jwksFile: JWKS file bad.json is not valid JSON']);
  });
  it('a JWKS without a usable key is refused', () => {
    expect(issuesOf(jwks('provider: { local: { jwksFile: k.json } }'), { 'k.json': '{"keys":[{"kty":"XYZ"}]}' })).toEqual([
      'spec.provider.local.jwksFile: JWKS file k.json: JWKS has no usable key',
    ]);
  });
});

describe('JWT', () => {
  run([
    { name: 'expirationRequired is required by the CRD', yaml: preamble('requireAny: [{ jwksRef: { name: keys } }]'), expected: ['spec.expirationRequired: Required'] },
    { name: 'requireAny must not be empty', yaml: preamble('expirationRequired: true\n  requireAny: []'), expected: ['spec.requireAny: Too small'] },
    { name: 'maxLifetime needs expirationRequired', yaml: preamble('expirationRequired: false\n  maxLifetime: 1h\n  requireAny: [{ jwksRef: { name: keys } }]'), expected: ['spec.maxLifetime: maxLifetime requires expirationRequired: true'] },
    { name: 'an unknown JWKS reference', yaml: preamble('expirationRequired: true\n  requireAny: [{ jwksRef: { name: nope } }]'), expected: ['spec.requireAny[0].jwksRef.name: JWKS "default/nope" not found'] },
    { name: 'two kinds in one extraction source', yaml: preamble('expirationRequired: true\n  extractionSources: [{ bearerToken: {}, cookie: { name: c } }]\n  requireAny: [{ jwksRef: { name: keys } }]'), expected: ['spec.extractionSources[0]: exactly one of bearerToken, header, queryParameter, cookie'] },
    { name: 'a subject matcher with two kinds', yaml: preamble('expirationRequired: true\n  requireAny: [{ jwksRef: { name: keys }, subject: { matcher: { exact: a, prefix: b } } }]'), expected: ['spec.requireAny[0].subject.matcher: exactly one of exact'] },
    { name: 'a subject regex RE2 refuses (lookahead)', yaml: preamble("expirationRequired: true\n  requireAny: [{ jwksRef: { name: keys }, subject: { matcher: { regex: '(?=a)b' } } }]"), expected: ['spec.requireAny[0].subject.matcher.regex: invalid RE2 regex'] },
    { name: 'a clock skew that is not a duration', yaml: preamble('expirationRequired: true\n  clockSkewTolerance: 1 minute\n  requireAny: [{ jwksRef: { name: keys } }]'), expected: ['spec.clockSkewTolerance: "1 minute" is not a duration'] },
  ]);
});

describe('AccessControlPolicy', () => {
  run([
    { name: 'all but the last policy need requestConditions', yaml: preamble() + acp('- authorization: {}\n- authorization: {}'), expected: ["spec.policies[0]: all except the last access control policy in 'policies' must specify 'requestConditions'"] },
    { name: 'an unknown JWT reference', yaml: preamble() + acp('- authorization: { authentication: { jwt: { jwtRef: { name: nope } } } }'), expected: ['spec.policies[0].authorization.authentication.jwt.jwtRef.name: JWT "default/nope" not found'] },
    { name: 'an unknown HTTPRoute', yaml: preamble() + acp('- authorization: {}', 'acp', '[{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: nope }]'), expected: ['spec.targetRefs[0].name: HTTPRoute "default/nope" not found'] },
    { name: 'a target that is not an HTTPRoute', yaml: preamble() + acp('- authorization: {}', 'acp', '[{ group: gateway.networking.k8s.io, kind: Gateway, name: backend }]'), expected: ['spec.targetRefs[0].kind: TargetRef Kind must be: HTTPRoute'] },
    { name: 'a target in another group', yaml: preamble() + acp('- authorization: {}', 'acp', '[{ group: example.com, kind: HTTPRoute, name: backend }]'), expected: ['spec.targetRefs[0].group: TargetRef Group must be gateway.networking.k8s.io.'] },
    { name: 'the same target twice', yaml: preamble() + acp('- authorization: {}', 'acp', '[{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: backend }, { group: gateway.networking.k8s.io, kind: HTTPRoute, name: backend }]'), expected: ['spec.targetRefs[1]: Combination of name, group and kind must be unique'] },
    { name: 'two policies on one route', yaml: preamble() + acp('- authorization: {}') + acp('- authorization: { deny: {} }', 'acp2'), expected: ['spec.targetRefs[0].name: HTTPRoute "default/backend" is already targeted by AccessControlPolicy "default/acp"'] },
    { name: 'jwt claims without jwt authentication (CEL)', yaml: preamble() + acp('- authorization: { requireAll: [{ jwt: { claim: { name: a } } }] }'), expected: ['spec.policies[0].authorization: cannot specify requireAny[*].jwt or requireAll[*].jwt without authentication.jwt'] },
    { name: 'deny with identityPropagation (CEL)', yaml: preamble() + acp('- authorization: { deny: {} }\n  identityPropagation: { actions: [], onFailure: Pass }'), expected: ['spec.policies[0].identityPropagation: policy with authorization.deny must not specify identityPropagation'] },
    { name: 'requireAll and requireAny together', yaml: preamble() + acp(`- authorization:\n    ${jwtAuth}\n    requireAll: [{ jwt: { claim: { name: a } } }]\n    requireAny: [{ jwt: { claim: { name: b } } }]`), expected: ['spec.policies[0].authorization: at most one of requireAll and requireAny'] },
    { name: 'more than 128 policies', yaml: preamble() + acp(Array.from({ length: 129 }, () => '- requestConditions: { method: [GET] }\n  authorization: {}').join('\n')), expected: ['spec.policies: Too big'] },
    { name: 'empty requestConditions', yaml: preamble() + acp('- requestConditions: { invert: true }\n  authorization: {}'), expected: ['spec.policies[0].requestConditions: set at least one of path, header, method, remoteIP, mediaType'] },
    { name: 'an invalid CIDR', yaml: preamble() + acp('- requestConditions: { remoteIP: { cidrRanges: [10.0.0.0/33] } }\n  authorization: {}'), expected: ['spec.policies[0].requestConditions.remoteIP.cidrRanges[0]: "10.0.0.0/33" has an invalid prefix length'] },
    { name: 'a method outside the enum', yaml: preamble() + acp('- requestConditions: { method: [get] }\n  authorization: {}'), expected: ['spec.policies[0].requestConditions.method[0]: Invalid option'] },
    { name: 'a header name pattern cannot be expressed', yaml: preamble() + acp('- requestConditions: { header: { name: { matcher: { prefix: x- } } } }\n  authorization: {}'), expected: ['spec.policies[0].requestConditions.header.name.matcher: only an exact header name is supported'] },
    { name: 'OIDC authentication is refused', yaml: preamble() + acp('- authorization: { authentication: { oidc: { oidcRelyingPartyRef: { name: rp } } } }'), expected: ['spec.policies[0].authorization.authentication.oidc: OIDC authentication is not supported'] },
    { name: 'client certificate conditions are refused', yaml: preamble() + acp(`- authorization:\n    ${jwtAuth}\n    requireAny: [{ clientCertificate: { hash: { in: { values: [ab] } } } }]`), expected: ['spec.policies[0].authorization.requireAny[0].clientCertificate: clientCertificate conditions are not supported'] },
    { name: 'identityPropagation is refused (upstreams would trust client-sent headers)', yaml: preamble() + acp(`- authorization:\n    ${jwtAuth}\n  identityPropagation: { actions: [], onFailure: Pass }`), expected: ['spec.policies[0].identityPropagation: identityPropagation is not supported'] },
    { name: 'a claim name with an empty segment', yaml: preamble() + acp(`- authorization:\n    ${jwtAuth}\n    requireAll: [{ jwt: { claim: { name: a..b } } }]`), expected: ['spec.policies[0].authorization.requireAll[0].jwt.claim.name: claim name "a..b" has an empty path segment'] },
    { name: 'an unknown field in a policy', yaml: preamble() + acp('- authorization: {}\n  priority: 1'), expected: ['spec.policies[0]: Unrecognized key'] },
  ]);
});

describe('HTTPRoute and documents', () => {
  run([
    { name: 'a path value with a dot segment', yaml: preamble(undefined, 'rules: [{ matches: [{ path: { type: PathPrefix, value: /a/../b } }] }]'), expected: ["spec.rules[0].matches[0].path.value: must not contain '/../'"] },
    { name: 'a relative Exact path', yaml: preamble(undefined, 'rules: [{ matches: [{ path: { type: Exact, value: api } }] }]'), expected: ["spec.rules[0].matches[0].path.value: value must be an absolute path and start with '/'"] },
    { name: 'an upper-case hostname', yaml: preamble(undefined, 'hostnames: [API.example.com]'), expected: ['spec.hostnames[0]: must be a lower-case hostname'] },
    { name: 'a regex route match RE2 refuses', yaml: preamble(undefined, "rules: [{ matches: [{ path: { type: RegularExpression, value: '(a)\\1' } }] }]"), expected: ['spec.rules[0].matches[0].path.value: invalid RE2 regex'] },
    { name: 'a duplicate name of one kind in one namespace', yaml: preamble() + preamble().split('---')[1]?.replace(/^/, '---') , expected: ['metadata.name: JWT "default/jwt" is already defined'] },
    { name: 'an Airlock kind we do not support', yaml: 'apiVersion: microgateway.airlock.com/v1alpha1\nkind: IdentityPropagation\nmetadata: { name: x }\nspec: {}\n', expected: ['kind: Airlock kind IdentityPropagation is not supported'] },
    { name: 'an Airlock version we do not know', yaml: 'apiVersion: microgateway.airlock.com/v2\nkind: JWT\nmetadata: { name: x }\nspec: {}\n', expected: ['apiVersion: unsupported Airlock version microgateway.airlock.com/v2'] },
    { name: 'metadata with an unknown field', yaml: 'apiVersion: microgateway.airlock.com/v1alpha1\nkind: JWKS\nmetadata: { name: x, nmespace: y }\nspec: { provider: { remote: { uri: https://idp/jwks } } }\n', expected: ['metadata: Unrecognized key'] },
  ]);
});
