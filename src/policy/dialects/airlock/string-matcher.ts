import type { StringMatcher } from '../../../model/matcher.js';
import { asciiLower, compileRe2 } from '../../matchers.js';
import type { AirlockStringMatcher, CaseInsensitiveMatcher } from './common-schema.js';

/**
 * Airlock `StringMatcher` → model `StringMatcher`. `ignoreCase` folds ASCII only, like Envoy's
 * `absl::EqualsIgnoreCase`; for `regex` it compiles with RE2's case-insensitive flag, which is what the CRD's
 * "wrapped with a group `(?i:...)`" amounts to. Regexes are full-match RE2 (Envoy `safe_regex`).
 * Returns an error message for a regex RE2 refuses.
 */
export function toStringMatcher(m: AirlockStringMatcher | CaseInsensitiveMatcher): StringMatcher | string {
  const ignoreCase = 'ignoreCase' in m ? m.ignoreCase : true;
  const fold = (v: string): string => (ignoreCase ? asciiLower(v) : v);
  if (m.exact !== undefined) return { kind: 'exact', value: fold(m.exact), ignoreCase };
  if (m.prefix !== undefined) return { kind: 'prefix', value: fold(m.prefix), ignoreCase };
  if (m.suffix !== undefined) return { kind: 'suffix', value: fold(m.suffix), ignoreCase };
  if (m.contains !== undefined) return { kind: 'contains', value: fold(m.contains), ignoreCase };
  if (m.regex !== undefined) {
    const re = compileRe2(m.regex, ignoreCase);
    return typeof re === 'string' ? re : { kind: 'regex', regex: re };
  }
  // The schema guarantees exactly one kind; reaching here is a programmer mistake.
  throw new TypeError('string matcher without a kind');
}

/** The literal text a matcher compares with (for hints); undefined for regexes. */
export function literalOf(m: AirlockStringMatcher): string | undefined {
  return m.exact ?? m.prefix ?? m.suffix ?? m.contains;
}
