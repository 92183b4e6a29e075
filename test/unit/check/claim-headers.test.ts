import { describe, expect, it } from 'vitest';
import { claimHeaderValue, claimHeaders, outputHeaderNames } from '../../../src/check/claim-headers.js';
import type { Identity } from '../../../src/model/identity.js';
import type { JwtProvider } from '../../../src/model/policy.js';

const claims = JSON.parse(
  '{"sub":"alice","n":42,"f":1.5,"neg":-1,"big":18446744073709551616,"t":true,"no":false,"obj":{"a":{"b":"deep"}},"list":["x","y"],' +
    '"nul":null,"empty":"","__proto__":{"polluted":"yes"},"crlf":"a\\r\\nx-injected: 1","lf":"a\\nb","nul0":"a\\u0000b","tab":"a\\tb",' +
    '"del":"a\\u007fb","lone":"a\\ud800","ok8k":"' + 'x'.repeat(8192) + '","over8k":"' + 'x'.repeat(8193) + '","uni":"caf\\u00e9 \\u212a"}',
) as Record<string, unknown>;

describe('claimHeaderValue (semantics §0.8, security.md §1.7)', () => {
  it.each([
    ['sub', 'alice'],
    ['n', '42'],
    ['f', '1.500000'],
    ['neg', '-1.000000'],
    ['big', '18446744073709551616.000000'],
    ['t', 'true'],
    ['no', 'false'],
    ['obj.a.b', 'deep'],
    ['obj', Buffer.from('{"a":{"b":"deep"}}').toString('base64')],
    ['list', Buffer.from('["x","y"]').toString('base64')],
    ['uni', 'caf\u00e9 \u212a'],
    ['ok8k', 'x'.repeat(8192)],
  ])('%s → %j', (path, expected) => {
    expect(claimHeaderValue(claims, path)).toBe(expected);
  });

  it.each([
    ['missing', 'nope'],
    ['null', 'nul'],
    ['empty string', 'empty'],
    ['CR/LF', 'crlf'],
    ['LF', 'lf'],
    ['NUL', 'nul0'],
    ['TAB (a control character too)', 'tab'],
    ['DEL', 'del'],
    ['a lone surrogate', 'lone'],
    ['over 8 KiB', 'over8k'],
    ['a path through a string', 'sub.length'],
    ['a path through a list', 'list.0'],
    ['constructor (inherited, never own)', 'constructor'],
    ['toString', 'toString'],
    ['hasOwnProperty', 'obj.hasOwnProperty'],
    ['a member of an own __proto__ object is only reachable by its path', 'polluted'],
  ])('%s ⇒ no header', (_name, path) => {
    expect(claimHeaderValue(claims, path)).toBeUndefined();
  });

  it('an own __proto__ member is a claim like any other (base64 JSON), never a prototype', () => {
    expect(claimHeaderValue(claims, '__proto__.polluted')).toBe('yes');
  });

  it('non-finite numbers never become header text', () => {
    expect(claimHeaderValue({ x: Infinity, y: NaN }, 'x')).toBeUndefined();
    expect(claimHeaderValue({ x: Infinity, y: NaN }, 'y')).toBeUndefined();
  });
});

describe('claimHeaders / outputHeaderNames', () => {
  const provider = {
    outputPayloadToHeader: 'x-jwt-payload',
    outputClaimToHeaders: [
      { header: 'x-sub', claim: 'sub' },
      { header: 'X-Missing', claim: 'nope' },
      { header: 'x-evil', claim: 'crlf' },
    ],
  } as unknown as JwtProvider;
  const identity = { claims, payloadSegment: 'eyJzdWIiOiJhbGljZSJ9' } as unknown as Identity;

  it('sets the payload segment verbatim and the claims that can be header text', () => {
    expect(claimHeaders(provider, identity)).toEqual([
      { name: 'x-jwt-payload', value: 'eyJzdWIiOiJhbGljZSJ9' },
      { name: 'x-sub', value: 'alice' },
    ]);
  });

  it('names every header the provider may set, lower-cased, so client copies are stripped', () => {
    expect(outputHeaderNames(provider)).toEqual(['x-sub', 'x-missing', 'x-evil', 'x-jwt-payload']);
  });
});
