import { describe, expect, it } from 'vitest';
import { normalizePath, percentDecode, removeDotSegments } from '../../../src/check/normalize-path.js';

describe('normalizePath BASE (istio.io normalization page, security.md §1.5)', () => {
  it.each([
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../a', '/a'],
    ['/a/..', '/'],
    ['/a/.', '/a/'],
    ['/a/b/..', '/a/'],
    ['/a//b', '/a//b'],
    ['/a//../b', '/a/b'],
    ['/a\\b', '/a/b'],
    ['/a\\..\\b', '/b'],
    ['/%2e%2e/a', '/a'],
    ['/a/%2E/b', '/a/b'],
    ['/a/.%2e/b', '/b'],
    ['/%61%62%63', '/abc'],
    ['/%7e%7E%2d%5f', '/~~-_'],
    ['/a%2fb', '/a%2fb'],
    ['/a%2Fb', '/a%2Fb'],
    ['/a%5cb', '/a%5cb'],
    ['/a%25b', '/a%25b'],
    ['/a%252e', '/a%252e'],
    ['/%c0%ae%c0%ae/a', '/%c0%ae%c0%ae/a'],
    ['/%', '/%'],
    ['/%4', '/%4'],
    ['/%zz', '/%zz'],
    ['/%%32e', '/%2e'],
    ['/a;b=c', '/a;b=c'],
    ['/a/..;/b', '/b'],
    ['/a/..;jsessionid=1/b', '/b'],
    ['/a/.;x/b', '/a/b'],
    ['/a/...;/b', '/a/...;/b'],
    ['/a/..x/b', '/a/..x/b'],
    ['/Admin', '/Admin'],
  ])('%s → %s', (raw, expected) => {
    expect(normalizePath(raw, 'BASE')).toEqual({ ok: true, path: expected });
  });

  it.each([
    ['%00', '/a%00b'],
    ['NUL', '/a\u0000b'],
    ['space', '/a b'],
    ['tab', '/a\tb'],
    ['CR', '/a\rb'],
    ['LF', '/a\nb'],
    ['DEL', '/a\u007fb'],
    ['non-ASCII', '/caf\u00e9'],
    ['a lone surrogate', '/a\ud800'],
    ['an emoji', '/\u{1f600}'],
  ])('%s is refused', (_name, raw) => {
    expect(normalizePath(raw).ok).toBe(false);
  });
});

describe('normalizePath slash modes', () => {
  it.each([
    ['MERGE_SLASHES', '//a///b', '/a/b'],
    ['MERGE_SLASHES', '/a//../b', '/b'],
    ['MERGE_SLASHES', '/a%2F%2Fb', '/a%2F%2Fb'],
    ['DECODE_AND_MERGE_SLASHES', '/a%2F%2fb', '/a/b'],
    ['DECODE_AND_MERGE_SLASHES', '/a%5C%5cb', '/a/b'],
    ['DECODE_AND_MERGE_SLASHES', '/public/%2e%2e%2fapi', '/api'],
    ['DECODE_AND_MERGE_SLASHES', '/a%252F', '/a%252F'],
  ] as const)('%s: %s → %s', (mode, raw, expected) => {
    expect(normalizePath(raw, mode)).toEqual({ ok: true, path: expected });
  });
});

describe('removeDotSegments (RFC 3986 §5.2.4, empty segments kept)', () => {
  it.each([
    ['/a/b/c/./../../g', '/a/g'],
    ['/mid/content=5/../6', '/mid/6'],
    ['/app//../admin', '/app/admin'],
    ['/..', '/'],
    ['/../..', '/'],
    ['/.', '/'],
    ['/a/b/', '/a/b/'],
    ['relative/../x', 'relative/../x'],
  ])('%s → %s', (raw, expected) => {
    expect(removeDotSegments(raw)).toBe(expected);
  });

  it('is linear on 64 KiB of dot segments', () => {
    const started = performance.now();
    expect(removeDotSegments('/a/..'.repeat(13_000))).toBe('/');
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('percentDecode (query values): never throws', () => {
  it.each([
    ['plain', 'plain'],
    ['a%20b', 'a b'],
    ['a+b', 'a+b'],
    ['%41%42', 'AB'],
    ['%C3%A9', '\u00e9'],
    ['%c0%ae', '\ufffd\ufffd'],
    ['%ff', '\ufffd'],
    ['%', '%'],
    ['%4', '%4'],
    ['%zz', '%zz'],
    ['caf\u00e9', 'caf\u00e9'],
    ['\u{1f600}%21', '\u{1f600}!'],
    ['%E2%82', '\ufffd'],
  ])('%j → %j', (raw, expected) => {
    expect(percentDecode(raw)).toBe(expected);
  });

  it('turns a lone surrogate into U+FFFD instead of throwing', () => {
    expect(() => percentDecode('%41\ud800')).not.toThrow();
    expect(percentDecode('%41\ud800')).toBe('A\ufffd');
  });
});
