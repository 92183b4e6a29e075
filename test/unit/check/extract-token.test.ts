import { describe, expect, it } from 'vitest';
import { extractAll, extractFirst, locationKey, tokensAt } from '../../../src/check/extract-token.js';
import { prepareRequest } from '../../../src/check/prepare-request.js';
import { DEFAULT_LOCATIONS, type TokenLocation } from '../../../src/model/policy.js';
import type { PreparedRequest } from '../../../src/model/request.js';
import { toAttributes, type TestRequest } from '../../helpers/engine.js';

function prepared(r: TestRequest): PreparedRequest {
  const p = prepareRequest(toAttributes(r), { pathNormalization: 'BASE', maxHeaders: 64 });
  if ('kind' in p) throw new TypeError(`request did not prepare: ${p.kind === 'deny' ? p.message : ''}`);
  return p;
}

const bearer: TokenLocation = { kind: 'header', name: 'authorization', prefix: 'Bearer ' };
const T = 'aaa.bbb.ccc';

describe('tokensAt: header with a prefix (Envoy extractor.cc)', () => {
  it.each([
    ['Bearer aaa.bbb.ccc', [T]],
    ['Bearer  aaa.bbb.ccc', [T]],
    ['Bearer \t "aaa.bbb.ccc', [T]],
    ['Token Bearer aaa.bbb.ccc', [T]],
    ['Bearer aaa.bbb.ccc junk', ['aaa.bbb.ccc junk']],
    ['Bearer ', ['']],
    ['Bearer', []],
    ['bearer aaa.bbb.ccc', []],
    ['BEARER aaa.bbb.ccc', []],
    ['Bearer\taaa.bbb.ccc', []],
    ['Basic dXNlcjpwYXNz', []],
    ['Bearer a,Bearer b', ['a,Bearer b']],
  ])('%j → %j', (value, expected) => {
    expect(tokensAt(prepared({ headers: { authorization: value } }), bearer)).toEqual(expected);
  });

  it('every value of a repeated header is a token of its own', () => {
    expect(tokensAt(prepared({ headers: { authorization: ['Bearer a.b.c', 'Bearer d.e.f', 'Basic x'] } }), bearer)).toEqual(['a.b.c', 'd.e.f']);
  });

  it('an empty prefix takes the whole value', () => {
    expect(tokensAt(prepared({ headers: { 'x-jwt': ' Bearer a.b.c' } }), { kind: 'header', name: 'x-jwt', prefix: '' })).toEqual([' Bearer a.b.c']);
  });

  it('a missing header holds no token', () => {
    expect(tokensAt(prepared({}), bearer)).toEqual([]);
  });
});

describe('tokensAt: query and cookie', () => {
  it.each([
    ['/a?access_token=a.b.c', ['a.b.c']],
    ['/a?access_token=a%2Eb.c', ['a.b.c']],
    ['/a?access_token=', ['']],
    ['/a?access_token', ['']],
    ['/a?access_token=x&access_token=y', ['x', 'y']],
    ['/a?Access_Token=x', []],
    ['/a?x=1#access_token=y', []],
    ['/a?access_token=%c0%ae', ['\ufffd\ufffd']],
  ])('%s → %j', (path, expected) => {
    expect(tokensAt(prepared({ path }), { kind: 'query', name: 'access_token' })).toEqual(expected);
  });

  it('reads the first cookie of that name', () => {
    const req = prepared({ headers: { cookie: ['a=1; jwt=x.y.z; jwt=other', 'jwt=third'] } });
    expect(tokensAt(req, { kind: 'cookie', name: 'jwt' })).toEqual(['x.y.z']);
    expect(tokensAt(req, { kind: 'cookie', name: 'none' })).toEqual([]);
  });
});

describe('extractAll / extractFirst / locationKey', () => {
  const req = prepared({ path: '/a?access_token=q.q.q', headers: { authorization: 'Bearer h.h.h' } });

  it('extractAll returns every token at every location, in order (Istio: each must verify)', () => {
    expect(extractAll(req, DEFAULT_LOCATIONS).map((f) => [f.token, f.location.kind])).toEqual([
      ['h.h.h', 'header'],
      ['q.q.q', 'query'],
    ]);
  });

  it('extractFirst takes the first location that holds a token (Airlock)', () => {
    expect(extractFirst(req, [{ kind: 'cookie', name: 'jwt' }, { kind: 'query', name: 'access_token' }, bearer])).toMatchObject({ token: 'q.q.q' });
    expect(extractFirst(req, [{ kind: 'cookie', name: 'jwt' }])).toBeUndefined();
  });

  it('locationKey tells a header with another prefix apart', () => {
    expect(new Set([bearer, { ...bearer, prefix: 'Token ' }, { kind: 'query', name: 'authorization' } as const].map(locationKey)).size).toBe(3);
  });
});
