/**
 * Matchers and predicates: the vocabulary every dialect compiles its conditions into.
 * Plain frozen data; `check/evaluate-predicate.ts` interprets it.
 */

/** A regular expression compiled at config time (RE2 semantics or a template we built), tested per request. */
export interface CompiledRegex {
  /** The pattern as written, for explain output. */
  readonly source: string;
  /** Full-match test. */
  test(value: string): boolean;
}

/** How one string value is tested. */
export type StringMatcher =
  | { readonly kind: 'exact'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'prefix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'suffix'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'contains'; readonly value: string; readonly ignoreCase: boolean }
  /** Istio `*`: any non-empty string. */
  | { readonly kind: 'nonEmpty' }
  | { readonly kind: 'regex'; readonly regex: CompiledRegex };

/** An IP range, parsed at config time. */
export interface CidrRange {
  readonly version: 4 | 6;
  /** Network address as an unsigned integer of 32 or 128 bits. */
  readonly network: bigint;
  readonly prefixLength: number;
  /** As written, for explain output. */
  readonly text: string;
}

/** How a claim's JSON value is turned into strings before matching. */
export type ClaimCoercion =
  /** Istio: only strings and lists of strings can match (numbers and booleans never do). */
  | 'strings'
  /** Airlock: primitives compared by their string form, arrays element-wise; objects and null never match. */
  | 'primitives';

/** What a predicate looks at. */
export type Attribute =
  | { readonly kind: 'method' }
  /** Normalised path without the query string. */
  | { readonly kind: 'path' }
  /** `:authority` as sent (port included). */
  | { readonly kind: 'host' }
  /** `:authority` without a port. */
  | { readonly kind: 'hostname' }
  | { readonly kind: 'destinationPort' }
  /** Request header, name lower-case; repeated values joined with `,`; absent ⇒ no value. */
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'query'; readonly name: string }
  | { readonly kind: 'sourceIp' }
  | { readonly kind: 'remoteIp' }
  | { readonly kind: 'destinationIp' }
  | { readonly kind: 'sourcePrincipal' }
  | { readonly kind: 'destinationPrincipal' }
  /** Namespace of the request (context_extensions.namespace or the destination principal's `ns/`). */
  | { readonly kind: 'namespace' }
  | { readonly kind: 'contextExtension'; readonly name: string }
  | { readonly kind: 'sni' }
  /** A claim of the verified token, nested by path segments (`['realm_access', 'roles']`). */
  | { readonly kind: 'claim'; readonly path: readonly string[]; readonly coercion: ClaimCoercion }
  | { readonly kind: 'issuer' }
  | { readonly kind: 'subject' };

/** A test on one attribute's value(s). An absent attribute never matches (so `not` of it always does). */
export type ValueTest =
  | { readonly kind: 'string'; readonly matcher: StringMatcher }
  /** The attribute exists, whatever its value (a header, a claim, a query parameter). */
  | { readonly kind: 'exists' }
  | { readonly kind: 'cidr'; readonly ranges: readonly CidrRange[] }
  | { readonly kind: 'port'; readonly ports: readonly number[] };

/** A boolean condition over a request and its (optional) verified identity. */
export type Predicate =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  | { readonly kind: 'all'; readonly of: readonly Predicate[] }
  | { readonly kind: 'any'; readonly of: readonly Predicate[] }
  | { readonly kind: 'not'; readonly of: Predicate }
  | { readonly kind: 'test'; readonly attribute: Attribute; readonly test: ValueTest }
  /**
   * The request principal `iss/sub` as Istio ≥ 1.21 matches it: `iss` and `sub` tested separately,
   * and only when the token has a non-empty `sub` (semantics §1.5).
   */
  | { readonly kind: 'requestPrincipal'; readonly issuer: StringMatcher; readonly subject: StringMatcher }
  /** A verified token is present. */
  | { readonly kind: 'authenticated' };

/** Frozen constants for the two trivial predicates. */
export const ALWAYS: Predicate = Object.freeze({ kind: 'true' });
export const NEVER: Predicate = Object.freeze({ kind: 'false' });

/** Builds `all` without needless nesting. */
export function allOf(of: readonly Predicate[]): Predicate {
  const parts = of.filter((p) => p.kind !== 'true');
  if (parts.some((p) => p.kind === 'false')) return NEVER;
  if (parts.length === 0) return ALWAYS;
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  return { kind: 'all', of: parts };
}

/** Builds `any` without needless nesting. */
export function anyOf(of: readonly Predicate[]): Predicate {
  const parts = of.filter((p) => p.kind !== 'false');
  if (parts.some((p) => p.kind === 'true')) return ALWAYS;
  if (parts.length === 0) return NEVER;
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  return { kind: 'any', of: parts };
}

/** Negation. */
export function not(of: Predicate): Predicate {
  if (of.kind === 'true') return NEVER;
  if (of.kind === 'false') return ALWAYS;
  if (of.kind === 'not') return of.of;
  return { kind: 'not', of };
}

/** A string test on one attribute. */
export function testString(attribute: Attribute, matcher: StringMatcher): Predicate {
  return { kind: 'test', attribute, test: { kind: 'string', matcher } };
}
