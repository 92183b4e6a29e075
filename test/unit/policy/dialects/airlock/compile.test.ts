/**
 * The model the Airlock JWKS and JWT documents compile to: key sources (local file, remote with timeouts and
 * TLS), token sources in order, and one JwtProvider per requireAny entry.
 */
import { describe, expect, it } from 'vitest';
import type { Authenticator, KeySource } from '../../../../../src/model/policy.js';
import { FILES, KEYS_JSON, acp, compileOk, compileYaml, issuesOf, preamble } from './harness.js';

const jwtAuth = 'authentication: { jwt: { jwtRef: { name: jwt } } }';

/** The one authenticator of a preamble + JWT policy, compiled from `jwtSpec`. */
function authenticator(jwtSpec: string, files = FILES): Authenticator {
  const f = compileOk(preamble(jwtSpec) + acp(`- authorization: { ${jwtAuth} }`), files);
  const a = f.authenticators[0];
  if (a === undefined || f.authenticators.length !== 1) throw new TypeError('expected one authenticator');
  return a;
}

/** The key source of a JWKS `provider` (YAML flow text) used by the preamble's JWT. */
function keysOf(provider: string, files = FILES): KeySource {
  const yaml = preamble().replace('provider:\n    local: { jwksFile: keys.json }', `provider: ${provider}`) + acp(`- authorization: { ${jwtAuth} }`);
  const a = compileOk(yaml, files).authenticators[0];
  const p = a?.providers[0];
  if (p === undefined) throw new TypeError('no provider');
  return p.keys;
}

describe('JWKS key sources', () => {
  it('a local file becomes inline keys, validated at compile time', () => {
    const k = keysOf('{ local: { jwksFile: keys.json } }');
    expect(k.kind).toBe('inline');
    if (k.kind !== 'inline') return;
    expect(k.keys.map((u) => [u.kid, u.kty])).toEqual([['k1', 'RSA']]);
    expect(k.keys[0]?.algs).toContain('RS256');
  });
  it('a Secret reference reads .secrets/<name>/jwks.json next to the document', () => {
    const k = keysOf('{ local: { secretRef: { name: idp } } }', { '.secrets/idp/jwks.json': KEYS_JSON });
    expect(k.kind === 'inline' ? k.keys.length : -1).toBe(1);
  });
  it('private key members are dropped from local keys, with a warning', () => {
    const withPrivate = JSON.stringify({ keys: [{ ...JSON.parse(KEYS_JSON).keys[0], d: 'c2VjcmV0' }] });
    const k = keysOf('{ local: { jwksFile: keys.json } }', { 'keys.json': withPrivate });
    expect(k.kind === 'inline' ? Object.keys(k.keys[0]?.jwk ?? {}) : []).not.toContain('d');
    const warnings = issuesOf(preamble(), { 'keys.json': withPrivate }, 'warning');
    expect(warnings.some((w) => w.includes('carries private key members'))).toBe(true);
  });
  it('remote defaults: connect 5s, maxDuration 15s, public CAs', () => {
    expect(keysOf('{ remote: { uri: https://idp.example.com/jwks } }')).toEqual({
      kind: 'remote',
      uri: 'https://idp.example.com/jwks',
      timeoutMs: 15000,
      connectTimeoutMs: 5000,
      tls: { verify: true },
    });
  });
  it('remote timeouts are Go durations', () => {
    const k = keysOf("{ remote: { uri: https://idp/jwks, timeouts: { connect: 250ms, maxDuration: '1m1.5s' } } }");
    expect(k.kind === 'remote' ? [k.connectTimeoutMs, k.timeoutMs] : []).toEqual([250, 61500]);
  });
  it('disabled certificate verification compiles, with a warning', () => {
    const provider = '{ remote: { uri: https://idp/jwks, tls: { certificateVerification: { disabled: {} } } } }';
    expect(keysOf(provider)).toMatchObject({ tls: { verify: false } });
    const yaml = preamble().replace('provider:\n    local: { jwksFile: keys.json }', `provider: ${provider}`);
    expect(compileYaml(yaml).issues.map((i) => [i.severity, i.path])).toEqual([['warning', 'spec.provider.remote.tls.certificateVerification.disabled']]);
  });
  it('a custom trusted CA names a PEM file, resolved next to the document', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const provider = '{ remote: { uri: https://idp/jwks, tls: { certificateVerification: { custom: { trustedCA: { certificates: [{ secretRef: { name: idp-ca } }] } } } } } }';
    const k = keysOf(provider, { ...FILES, '.secrets/idp-ca/ca.crt': pem });
    expect(k.kind === 'remote' ? k.tls : undefined).toEqual({ verify: true, caFile: expect.stringMatching(/policies\/\.secrets\/idp-ca\/ca\.crt$/) as unknown });
  });
  it('plain http is accepted with a warning', () => {
    const yaml = preamble().replace('provider:\n    local: { jwksFile: keys.json }', 'provider: { remote: { uri: http://idp/jwks } }');
    expect(issuesOf(yaml, FILES, 'warning')).toEqual(['spec.provider.remote.uri: keys fetched over plain http:// can be replaced in transit']);
  });
});

describe('JWT authenticators', () => {
  it('without extractionSources the token comes from Authorization: Bearer only', () => {
    expect(authenticator('expirationRequired: true\n  requireAny: [{ jwksRef: { name: keys } }]').sources).toEqual([
      { kind: 'header', name: 'authorization', prefix: 'Bearer ' },
    ]);
  });
  it('sources keep their order; a header source takes the whole value (no prefix)', () => {
    const a = authenticator(`expirationRequired: true
  extractionSources: [{ cookie: { name: session } }, { header: { name: X-Token } }, { queryParameter: { name: t } }, { bearerToken: {} }]
  requireAny: [{ jwksRef: { name: keys } }]`);
    expect(a.sources).toEqual([
      { kind: 'cookie', name: 'session' },
      { kind: 'header', name: 'x-token', prefix: '' },
      { kind: 'query', name: 't' },
      { kind: 'header', name: 'authorization', prefix: 'Bearer ' },
    ]);
  });
  it('one provider per requireAny entry, with its issuer, audiences and subject', () => {
    const a = authenticator(`expirationRequired: false
  requireAny:
    - { jwksRef: { name: keys }, issuer: 'https://a.example.com', audiences: ['https://api.example.com/', other] }
    - { jwksRef: { name: keys }, subject: { matcher: { prefix: svc-, ignoreCase: true } } }`);
    expect(a.providers.map((p) => [p.issuer, p.audiences, p.audiencesAll, p.subject])).toEqual([
      ['https://a.example.com', ['api.example.com', 'other'], false, undefined],
      ['', [], false, { kind: 'prefix', value: 'svc-', ignoreCase: true }],
    ]);
  });
  it('time settings: clock skew default 60 s, expirationRequired and maxLifetime', () => {
    const [p] = authenticator('expirationRequired: true\n  maxLifetime: 1h30m\n  requireAny: [{ jwksRef: { name: keys } }]').providers;
    expect([p?.clockSkewSec, p?.requireExpiration, p?.maxLifetimeSec]).toEqual([60, true, 5400]);
    const [q] = authenticator("expirationRequired: false\n  clockSkewTolerance: 500ms\n  requireAny: [{ jwksRef: { name: keys } }]").providers;
    expect([q?.clockSkewSec, q?.requireExpiration, q?.maxLifetimeSec]).toEqual([0.5, false, undefined]);
  });
  it('nothing is split on spaces and nothing is copied into headers', () => {
    const [p] = authenticator('expirationRequired: true\n  requireAny: [{ jwksRef: { name: keys } }]').providers;
    expect([p?.spaceDelimitedClaims, p?.outputClaimToHeaders, p?.outputPayloadToHeader, p?.audienceMismatchStatus]).toEqual([[], [], undefined, 401]);
  });
  it('an unused JWT contributes no authenticator (its keys are never fetched)', () => {
    expect(compileOk(preamble() + acp('- authorization: {}'), FILES).authenticators).toEqual([]);
  });
  it('the compiled fragment is frozen', () => {
    const f = compileOk(preamble() + acp(`- authorization: { ${jwtAuth} }`), FILES);
    expect(Object.isFrozen(f.orderedPolicies[0]?.entries[0])).toBe(true);
    expect(Object.isFrozen(f.authenticators[0]?.providers[0])).toBe(true);
  });
});
