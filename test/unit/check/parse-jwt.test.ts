import { describe, expect, it } from 'vitest';
import { SUPPORTED_ALGS, guardJson, parseJwt } from '../../../src/check/parse-jwt.js';

const b64 = (s: string | Uint8Array): string => Buffer.from(typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64url');
/** A compact token from header/payload JSON text; the signature is opaque bytes (parseJwt never verifies). */
const jwt = (header: string, payload: string, sig = 'c2ln'): string => `${b64(header)}.${b64(payload)}.${sig}`;
const H = '{"alg":"RS256","kid":"k1"}';
const P = '{"iss":"https://issuer.test","sub":"alice","exp":2000000000}';
const MAX = 8192;

describe('parseJwt: accepted shapes', () => {
  it('returns alg, kid, header, payload and the payload segment verbatim', () => {
    const t = jwt(H, P);
    expect(parseJwt(t, MAX)).toEqual({
      alg: 'RS256',
      kid: 'k1',
      header: { alg: 'RS256', kid: 'k1' },
      payload: { iss: 'https://issuer.test', sub: 'alice', exp: 2000000000 },
      payloadSegment: t.split('.')[1],
    });
  });

  it.each([...SUPPORTED_ALGS])('alg %s is supported', (alg) => {
    expect(parseJwt(jwt(`{"alg":"${alg}"}`, P), MAX)).toMatchObject({ alg, kid: undefined });
  });

  it.each([
    ['a fractional exp', '{"exp":2000000000.5}'],
    ['exp just below 2^64', '{"exp":18446744073709549568}'],
    ['aud as a list of strings', '{"aud":["a","b"]}'],
    ['aud as an empty list', '{"aud":[]}'],
    ['no claims at all', '{}'],
    ['nesting of exactly 64 levels', `{"d":${'['.repeat(63)}${']'.repeat(63)}}`],
    ['a string full of brackets', `{"d":"${'['.repeat(200)}"}`],
    ['the same member name in sibling objects', '{"a":{"x":1},"b":{"x":2}}'],
    ['a value equal to a member name', '{"a":"b","b":"a"}'],
    ['an own __proto__ member', '{"__proto__":{"groups":["admin"]}}'],
  ])('%s', (_name, payload) => {
    expect('alg' in parseJwt(jwt(H, payload), MAX)).toBe(true);
  });

  it('an own __proto__ stays a plain data member (no prototype pollution)', () => {
    const r = parseJwt(jwt(H, '{"__proto__":{"groups":["admin"]}}'), MAX);
    if (!('alg' in r)) throw new Error('expected a parse');
    expect(Object.hasOwn(r.payload, '__proto__')).toBe(true);
    expect((r.payload as { groups?: unknown }).groups).toBeUndefined();
  });
});

describe('parseJwt: refusals', () => {
  it.each([
    ['token larger than the limit', 'x'.repeat(MAX + 1), 'token_too_large'],
    ['empty', '', 'token_malformed'],
    ['no dot', 'abc', 'token_malformed'],
    ['one dot', 'a.b', 'token_malformed'],
    ['three dots', `${jwt(H, P)}.x`, 'token_malformed'],
    ['leading dot', `.${b64(P)}.c2ln`, 'token_malformed'],
    ['empty payload', `${b64(H)}..c2ln`, 'token_malformed'],
    ['empty signature', `${b64(H)}.${b64(P)}.`, 'token_malformed'],
    ['JWE (5 parts)', 'a.b.c.d.e', 'token_malformed'],
    ['padded header', `${b64(H)}=.${b64(P)}.c2ln`, 'token_malformed'],
    ['padded signature', jwt(H, P, 'c2ln=='), 'token_malformed'],
    ['standard-base64 "+" in the signature', jwt(H, P, 'c2l+'), 'token_malformed'],
    ['space in the signature', jwt(H, P, 'c2 ln'), 'token_malformed'],
    ['tab in the signature', jwt(H, P, 'c2\tln'), 'token_malformed'],
    ['non-canonical signature (unused bits set)', jwt(H, P, 'c2lo'.slice(0, 3)), 'token_malformed'],
    ['header length ≡ 1 (mod 4)', `${b64(`${H}${' '.repeat((3 - (H.length % 3)) % 3)}`)}A.${b64(P)}.c2ln`, 'token_malformed'],
    ['header is not UTF-8', `${b64(new Uint8Array([0x7b, 0xff, 0x7d]))}.${b64(P)}.c2ln`, 'token_malformed'],
    ['header is not JSON', jwt('{alg:RS256}', P), 'token_malformed'],
    ['header is an array', jwt('["RS256"]', P), 'token_malformed'],
    ['payload is null', jwt(H, 'null'), 'token_malformed'],
    ['payload is a string (nested JWT)', jwt(H, JSON.stringify(jwt(H, P))), 'token_malformed'],
    ['payload is a number', jwt(H, '1'), 'token_malformed'],
    ['payload with a BOM', jwt(H, `\uFEFF${P}`), 'token_malformed'],
    ['duplicate member in the payload', jwt(H, '{"sub":"alice","sub":"admin"}'), 'token_malformed'],
    ['duplicate member spelled with an escape', jwt(H, '{"sub":"alice","\\u0073ub":"admin"}'), 'token_malformed'],
    ['duplicate member after a nested array', jwt(H, '{"a":[1,{"b":2}],"a":3}'), 'token_malformed'],
    ['duplicate alg in the header', jwt('{"alg":"HS256","alg":"RS256"}', P), 'token_malformed'],
    ['nesting of 65 levels', jwt(H, `{"d":${'['.repeat(64)}${']'.repeat(64)}}`), 'token_malformed'],
    ['alg missing', jwt('{"kid":"k1"}', P), 'token_malformed'],
    ['alg not a string', jwt('{"alg":["RS256"]}', P), 'token_malformed'],
    ['alg none', jwt('{"alg":"none"}', P), 'algorithm_unsupported'],
    ['alg None', jwt('{"alg":"None"}', P), 'algorithm_unsupported'],
    ['alg Ed25519 (RFC 9864 name, not Envoy)', jwt('{"alg":"Ed25519"}', P), 'algorithm_unsupported'],
    ['alg ES256K', jwt('{"alg":"ES256K"}', P), 'algorithm_unsupported'],
    ['kid not a string', jwt('{"alg":"RS256","kid":1}', P), 'token_malformed'],
    ['crit with an unknown name', jwt('{"alg":"RS256","crit":["x"]}', P), 'token_invalid'],
    ['crit empty', jwt('{"alg":"RS256","crit":[]}', P), 'token_invalid'],
    ['crit null', jwt('{"alg":"RS256","crit":null}', P), 'token_invalid'],
    ['crit b64 with b64 false', jwt('{"alg":"RS256","b64":false,"crit":["b64"]}', P), 'token_invalid'],
    ['iss a number', jwt(H, '{"iss":1}'), 'claim_invalid'],
    ['sub null', jwt(H, '{"sub":null}'), 'claim_invalid'],
    ['jti an object', jwt(H, '{"jti":{}}'), 'claim_invalid'],
    ['exp a string', jwt(H, '{"exp":"2000000000"}'), 'claim_invalid'],
    ['nbf true', jwt(H, '{"nbf":true}'), 'claim_invalid'],
    ['iat null', jwt(H, '{"iat":null}'), 'claim_invalid'],
    ['exp 1e400 (Infinity)', jwt(H, '{"exp":1e400}'), 'claim_invalid'],
    ['exp -1e400 (-Infinity)', jwt(H, '{"exp":-1e400}'), 'claim_invalid'],
    ['exp negative', jwt(H, '{"exp":-1}'), 'claim_invalid'],
    ['exp a tiny negative fraction', jwt(H, '{"exp":-0.5}'), 'claim_invalid'],
    ['exp 2^64', jwt(H, '{"exp":18446744073709551616}'), 'claim_invalid'],
    ['exp 2e19', jwt(H, '{"exp":2e19}'), 'claim_invalid'],
    ['aud a number', jwt(H, '{"aud":5}'), 'claim_invalid'],
    ['aud with a number inside', jwt(H, '{"aud":["a",5]}'), 'claim_invalid'],
    ['aud an object', jwt(H, '{"aud":{}}'), 'claim_invalid'],
  ])('%s ⇒ %s', (_name, token, reason) => {
    expect(parseJwt(token, MAX)).toMatchObject({ reason });
  });

  it('checks the size before looking at the structure', () => {
    expect(parseJwt(`${'.'.repeat(MAX)}x`, MAX)).toMatchObject({ reason: 'token_too_large' });
  });
});

describe('guardJson', () => {
  it.each([
    ['{"a":1}', undefined],
    ['{"a":1,"a":2}', 'has a duplicate member name'],
    ['{"a\\"b":1,"a\\"b":2}', 'has a duplicate member name'],
    ['{"a":"x\\\\","a":1}', 'has a duplicate member name'],
    ['[{"a":1},{"a":1}]', undefined],
    ['{"a":{"a":{"a":1}}}', undefined],
    ['{"a":"{\\"a\\":1,\\"a\\":2}"}', undefined],
    [`${'['.repeat(64)}${']'.repeat(64)}`, undefined],
    [`${'['.repeat(65)}${']'.repeat(65)}`, 'is nested deeper than 64 levels'],
    [`${'{"a":'.repeat(65)}1${'}'.repeat(65)}`, 'is nested deeper than 64 levels'],
  ])('%s ⇒ %s', (text, expected) => {
    expect(guardJson(text)).toBe(expected);
  });

  it('scans a million levels of nesting without recursion', () => {
    expect(guardJson('['.repeat(1_000_000))).toBe('is nested deeper than 64 levels');
  });
});
