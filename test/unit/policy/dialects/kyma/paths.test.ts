/** Rule-path helpers: the "covers" relation behind Kyma's rule-order validation, and operator checks. */
import { describe, expect, it } from 'vitest';
import { checkPathOperators, isCatchAll, pathCovers, standardizePath } from '../../../../../src/policy/dialects/kyma/paths.js';

describe('pathCovers(general, specific): every path the specific one matches, the general one matches too', () => {
  it.each([
    { general: '/a', specific: '/a', covers: true },
    { general: '/a', specific: '/b', covers: false },
    { general: '/a', specific: '/a/', covers: false },
    { general: '/{**}', specific: '/', covers: true },
    { general: '/*', specific: '/anything/at/all', covers: true },
    { general: '/{**}', specific: '/{*}/x/{**}', covers: true },
    { general: '/a/{**}', specific: '/a', covers: false },
    { general: '/a/{**}', specific: '/a/', covers: true },
    { general: '/a/{**}', specific: '/a/{*}/one', covers: true },
    { general: '/a/{*}/one', specific: '/a/{**}', covers: false },
    { general: '/a/{*}', specific: '/a/b', covers: true },
    { general: '/a/{*}', specific: '/a/', covers: false },
    { general: '/a/{*}', specific: '/a/{**}', covers: false },
    { general: '/a/{*}/c', specific: '/a/b/{*}', covers: false },
    { general: '/a/{**}/x', specific: '/a/b/c/x', covers: true },
    { general: '/a/{**}/x', specific: '/a/x', covers: false },
    { general: '/a/{**}/x', specific: '/a/{**}/y/x', covers: true },
    { general: '/a/{**}/x', specific: '/a/{**}', covers: false },
    { general: '/{*}/{**}', specific: '/{**}', covers: false },
    { general: '/abc/{**}/def', specific: '/abc/def/{**}/def', covers: true },
  ])('$general covers $specific: $covers', ({ general, specific, covers }) => {
    expect(pathCovers(general, specific)).toBe(covers);
  });
});

describe('operators', () => {
  it.each([
    { path: '/a/{**}', problem: undefined },
    { path: '/a/{**}/b', problem: undefined },
    { path: '/{*}/{**}', problem: undefined },
    { path: '/a/{**}/{**}', problem: 'only one {**} operator is allowed in the path' },
    { path: '/a/{**}/{*}', problem: 'the {**} operator must be the last operator in the path' },
  ])('$path', ({ path, problem }) => {
    expect(checkPathOperators(path)).toBe(problem);
  });

  it('/* is the Envoy template /{**}, and both are catch-alls', () => {
    expect(standardizePath('/*')).toBe('/{**}');
    expect([isCatchAll('/*'), isCatchAll('/{**}'), isCatchAll('/'), isCatchAll('/a/{**}')]).toEqual([true, true, false, false]);
  });
});
