import type { Predicate, StringMatcher } from '../../../model/matcher.js';
import { ALWAYS, allOf, anyOf, testString } from '../../../model/matcher.js';
import type { ConfigIssue } from '../../config-issue.js';
import { asciiLower, compileRe2, issueAt } from '../../matchers.js';
import type { HTTPPathMatch, HTTPRoute, HTTPRouteMatch } from './httproute-schema.js';
import type { Parsed } from './parsed.js';

/** One `rules[r].matches[m]` of a route, compiled, with what Gateway API precedence looks at. */
export interface CompiledMatch {
  readonly rule: number;
  readonly index: number;
  readonly when: Predicate;
  readonly path: HTTPPathMatch;
  readonly method: string | undefined;
  /**
   * Gateway API precedence key (HTTPRouteRule.matches doc): Exact path, PathPrefix length, method, header count,
   * query param count. Undefined for RegularExpression paths, whose precedence is implementation-specific.
   */
  readonly rank: readonly number[] | undefined;
}

/** A hostname pattern of a route: exact, `*.suffix`, or none (the route has no hostnames). */
export interface HostPattern {
  readonly text: string;
  readonly when: Predicate;
  /** Gateway API: a matching non-wildcard hostname beats a wildcard one, a longer one a shorter one. */
  readonly specificity: readonly [number, number];
}

/** An HTTPRoute compiled for scoping. */
export interface CompiledRoute {
  readonly parsed: Parsed<HTTPRoute>;
  readonly hosts: readonly HostPattern[];
  readonly matches: readonly CompiledMatch[];
  /** Parent references, normalised to one string each: only routes sharing a parent compete. */
  readonly parents: ReadonlySet<string>;
  /** Creation time in ms (routes without one sort as newest), then `namespace/name`: Gateway API tie-breakers. */
  readonly order: readonly [number, string];
}

/** The pattern of a route without hostnames: every host, least specific. */
export const CATCH_ALL_HOST: HostPattern = Object.freeze({ text: '', when: ALWAYS, specificity: [0, 0] as const });

/** Compiles a route's hostnames and matches; regexes RE2 refuses become issues. */
export function compileRoute(p: Parsed<HTTPRoute>, issues: ConfigIssue[]): CompiledRoute {
  const spec = p.value.spec;
  const hosts = (spec.hostnames ?? []).map(hostPattern);
  const matches: CompiledMatch[] = [];
  spec.rules.forEach((rule, r) => {
    rule.matches.forEach((m, i) => {
      const when = compileMatch(p, m, ['spec', 'rules', r, 'matches', i], issues);
      if (when !== undefined) matches.push({ rule: r, index: i, when, path: m.path, method: m.method, rank: rankOf(m) });
    });
  });
  const parents = new Set((spec.parentRefs ?? []).map((ref) =>
    [ref.group, ref.kind, ref.namespace ?? p.namespace, ref.name, ref.sectionName ?? '', ref.port ?? ''].join('/'),
  ));
  const ts = p.value.metadata.creationTimestamp;
  const created = ts === undefined || ts === null ? Number.NaN : new Date(ts).getTime();
  return { parsed: p, hosts: hosts.length === 0 ? [CATCH_ALL_HOST] : hosts, matches, parents, order: [Number.isNaN(created) ? Infinity : created, p.key] };
}

function hostPattern(h: string): HostPattern {
  // Host matching ignores the port (HTTPRouteSpec.hostnames) and case (RFC 4343); values are lower case already.
  if (h.startsWith('*.')) {
    const suffix = h.slice(1);
    return { text: h, when: testString({ kind: 'hostname' }, { kind: 'suffix', value: suffix, ignoreCase: true }), specificity: [1, h.length] };
  }
  return { text: h, when: testString({ kind: 'hostname' }, { kind: 'exact', value: h, ignoreCase: true }), specificity: [2, h.length] };
}

function compileMatch(p: Parsed<HTTPRoute>, m: HTTPRouteMatch, at: readonly (string | number)[], issues: ConfigIssue[]): Predicate | undefined {
  const parts: Predicate[] = [];
  let ok = true;
  const regex = (source: string, path: readonly (string | number)[]): StringMatcher | undefined => {
    const re = compileRe2(source, false);
    if (typeof re !== 'string') return { kind: 'regex', regex: re };
    issues.push(issueAt(p.doc, [...at, ...path], re));
    ok = false;
    return undefined;
  };
  const path = pathPredicate(m.path, () => regex(m.path.value, ['path', 'value']));
  if (path !== undefined) parts.push(path);
  // "If multiple entries specify equivalent header names, only the first entry … MUST be considered."
  const seenHeaders = new Set<string>();
  (m.headers ?? []).forEach((h, i) => {
    const name = asciiLower(h.name);
    if (seenHeaders.has(name)) {
      issues.push(issueAt(p.doc, [...at, 'headers', i, 'name'], `header "${h.name}" is matched by an earlier entry; this one is ignored`, 'warning'));
      return;
    }
    seenHeaders.add(name);
    const matcher = h.type === 'Exact' ? exact(h.value) : regex(h.value, ['headers', i, 'value']);
    if (matcher !== undefined) parts.push(testString({ kind: 'header', name }, matcher));
  });
  const seenParams = new Set<string>();
  (m.queryParams ?? []).forEach((q, i) => {
    if (seenParams.has(q.name)) {
      issues.push(issueAt(p.doc, [...at, 'queryParams', i, 'name'], `query parameter "${q.name}" is matched by an earlier entry; this one is ignored`, 'warning'));
      return;
    }
    seenParams.add(q.name);
    const matcher = q.type === 'Exact' ? exact(q.value) : regex(q.value, ['queryParams', i, 'value']);
    if (matcher !== undefined) parts.push(testString({ kind: 'query', name: q.name }, matcher));
  });
  if (m.method !== undefined) parts.push(testString({ kind: 'method' }, exact(m.method)));
  return ok ? allOf(parts) : undefined;
}

/**
 * Gateway API path semantics on the normalised path (query removed): `Exact` is case-sensitive equality;
 * `PathPrefix` matches whole segments with a trailing `/` ignored (`/abc` matches `/abc`, `/abc/`, `/abc/x`,
 * not `/abcd`); `RegularExpression` is a full RE2 match, as Envoy's `safe_regex` route match.
 */
export function pathPredicate(m: HTTPPathMatch, regex: () => StringMatcher | undefined): Predicate | undefined {
  const attr = { kind: 'path' } as const;
  switch (m.type) {
    case 'Exact':
      return testString(attr, exact(m.value));
    case 'PathPrefix': {
      const base = m.value.endsWith('/') ? m.value.slice(0, -1) : m.value;
      if (base === '') return testString(attr, { kind: 'prefix', value: '/', ignoreCase: false });
      return anyOf([testString(attr, exact(base)), testString(attr, { kind: 'prefix', value: `${base}/`, ignoreCase: false })]);
    }
    case 'RegularExpression': {
      const re = regex();
      return re === undefined ? undefined : testString(attr, re);
    }
    default:
      return assertNever(m.type);
  }
}

function rankOf(m: HTTPRouteMatch): readonly number[] | undefined {
  if (m.path.type === 'RegularExpression') return undefined;
  const headers = new Set((m.headers ?? []).map((h) => asciiLower(h.name))).size;
  const params = new Set((m.queryParams ?? []).map((q) => q.name)).size;
  return [m.path.type === 'Exact' ? 1 : 0, m.path.value.length, m.method === undefined ? 0 : 1, headers, params];
}

function exact(value: string): StringMatcher {
  return { kind: 'exact', value, ignoreCase: false };
}

function assertNever(x: never): never {
  throw new TypeError(`unhandled path match type ${String(x)}`);
}
