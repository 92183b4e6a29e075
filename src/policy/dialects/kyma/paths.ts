import { type Predicate, testString } from '../../../model/matcher.js';
import { compilePathTemplate } from '../../matchers.js';

/**
 * Kyma rule paths (semantics §4.4): exact, `{*}` (one non-empty segment), `{**}` (the rest when last, one or more
 * segments in the middle) and `/*` (≡ `/{**}`).
 */

/** One segment of a rule path. */
export type PathToken =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'one' }
  | { readonly kind: 'many' };

/** Kyma creator.go standardizeRulePath: `/*` is written as the Envoy template `/{**}`. */
export function standardizePath(path: string): string {
  return path === '/*' ? '/{**}' : path;
}

/** true for the catch-all paths Kyma leaves out of generated notPaths (`/*`, `/{**}`). */
export function isCatchAll(path: string): boolean {
  return standardizePath(path) === '/{**}';
}

/** Splits a (standardised) rule path into segments. `/` is one empty literal segment. */
export function tokenizePath(path: string): PathToken[] {
  return standardizePath(path)
    .slice(1)
    .split('/')
    .map((s): PathToken => (s === '{*}' ? { kind: 'one' } : s === '{**}' ? { kind: 'many' } : { kind: 'literal', value: s }));
}

/**
 * Kyma validateEnvoyTemplate (validation/v2alpha1/rules.go): at most one `{**}`, and no operator after it.
 * Returns the problem, or undefined when the path is fine.
 */
export function checkPathOperators(path: string): string | undefined {
  const tokens = tokenizePath(path);
  const many = tokens.filter((t) => t.kind === 'many').length;
  if (many > 1) return 'only one {**} operator is allowed in the path';
  const at = tokens.findIndex((t) => t.kind === 'many');
  if (at !== -1 && tokens.slice(at + 1).some((t) => t.kind === 'one')) {
    return 'the {**} operator must be the last operator in the path';
  }
  return undefined;
}

/**
 * true when every request path matched by `specific` is also matched by `general`: a rule with `general` placed
 * before a rule with `specific` (sharing a method) leaves the later one unreachable for that method, which Kyma
 * rejects ("conflicts with at least one of the previous rule paths", docs: order rules from specific to general).
 * Segment-level language inclusion; a middle `{**}` is taken to need at least one non-empty segment.
 */
export function pathCovers(general: string, specific: string): boolean {
  const a = tokenizePath(general);
  const b = tokenizePath(specific);
  const go = (i: number, j: number): boolean => {
    const t = a[i];
    if (t === undefined) return j === b.length;
    if (t.kind === 'many') {
      const last = i === a.length - 1;
      for (let k = j + 1; k <= b.length; k++) {
        const absorbed = b.slice(j, k);
        if (!last && absorbed.every((x) => x.kind === 'literal' && x.value === '')) continue;
        if (go(i + 1, k)) return true;
      }
      return false;
    }
    const u = b[j];
    if (u === undefined) return false;
    if (t.kind === 'literal') return u.kind === 'literal' && u.value === t.value && go(i + 1, j + 1);
    // `{*}` covers a non-empty literal segment or another `{*}`, never `{**}` (which may span several segments).
    return ((u.kind === 'literal' && u.value !== '') || u.kind === 'one') && go(i + 1, j + 1);
  };
  return go(0, 0);
}

/**
 * The request-path test for one rule path: an exact (case-sensitive) match, or the Envoy URI-template regex.
 * Returns an error message for a template Envoy would reject.
 */
export function pathPredicate(path: string): Predicate | string {
  const standard = standardizePath(path);
  if (!standard.includes('{*}') && !standard.includes('{**}')) {
    return testString({ kind: 'path' }, { kind: 'exact', value: standard, ignoreCase: false });
  }
  // Kyma (like Istio ≥ 1.22) allows literal segments after `{**}`: `/anything/{**}/two`.
  const regex = compilePathTemplate(standard, { allowInnerDoubleStar: true });
  if (typeof regex === 'string') return regex;
  return testString({ kind: 'path' }, { kind: 'regex', regex });
}
