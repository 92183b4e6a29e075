import { RE2JS } from 're2js';
import type { CidrRange, CompiledRegex, Predicate } from '../../../model/matcher.js';
import { allOf, anyOf, not, testString } from '../../../model/matcher.js';
import type { ConfigIssue } from '../../config-issue.js';
import { asciiLower, compileRe2, issueAt, parseCidr } from '../../matchers.js';
import type { RawDocument } from '../../read-documents.js';
import type { RequestConditions } from './acp-schema.js';
import type { CaseInsensitiveMatcher } from './common-schema.js';
import { toStringMatcher } from './string-matcher.js';

type Path = readonly (string | number)[];

/**
 * `requestConditions` → a predicate: the AND of the fields that are set, negated when `invert`
 * (accesscontrolpolicies CRD). Returns undefined (with issues) for a condition we cannot express; a policy
 * whose selection we cannot express is refused, never approximated, since it decides which policy applies.
 */
export function compileConditions(doc: RawDocument, c: RequestConditions, at: Path, issues: ConfigIssue[]): Predicate | undefined {
  const parts: Predicate[] = [];
  let ok = true;
  const fail = (path: Path, message: string): void => {
    issues.push(issueAt(doc, [...at, ...path], message));
    ok = false;
  };
  if (c.path !== undefined) {
    // The path as normalised by the service, without the query string (what Envoy route and RBAC matchers see).
    const m = toStringMatcher(c.path.matcher);
    if (typeof m === 'string') fail(['path', 'matcher', 'regex'], m);
    else parts.push(testString({ kind: 'path' }, m));
  }
  if (c.header !== undefined) {
    const h = headerPredicate(c.header, fail);
    if (h !== undefined) parts.push(h);
  }
  if (c.method !== undefined) {
    if (c.method.length === 0) fail(['method'], 'method must list at least one method');
    // Methods are compared exactly as sent: never case-folded (security.md §0.6).
    else parts.push(anyOf(c.method.map((m) => testString({ kind: 'method' }, { kind: 'exact', value: m, ignoreCase: false }))));
  }
  if (c.remoteIP !== undefined) {
    const ranges: CidrRange[] = [];
    c.remoteIP.cidrRanges.forEach((text, i) => {
      const r = parseCidr(text);
      if (typeof r === 'string') fail(['remoteIP', 'cidrRanges', i], r);
      else ranges.push(r);
    });
    const inRanges: Predicate = { kind: 'test', attribute: { kind: 'remoteIp' }, test: { kind: 'cidr', ranges } };
    parts.push(c.remoteIP.invert ? not(inRanges) : inRanges);
  }
  if (c.mediaType !== undefined) {
    const re = mediaTypeRegex(c.mediaType.matcher);
    if (typeof re === 'string') fail(['mediaType', 'matcher'], re);
    else parts.push(testString({ kind: 'header', name: 'content-type' }, { kind: 'regex', regex: re }));
  }
  if (!ok) return undefined;
  const all = allOf(parts);
  return c.invert ? not(all) : all;
}

function headerPredicate(
  header: NonNullable<RequestConditions['header']>,
  fail: (path: Path, message: string) => void,
): Predicate | undefined {
  const nameMatcher = header.name?.matcher;
  if (nameMatcher === undefined) {
    fail(['header'], 'header.name is required: matching a value under any header name is not supported');
    return undefined;
  }
  if (nameMatcher.exact === undefined) {
    fail(['header', 'name', 'matcher'], 'only an exact header name is supported');
    return undefined;
  }
  // Header names are case-insensitive (the CRD's NonInvertableCaseInsensitiveStringMatcher); the model holds them lower case.
  const name = asciiLower(nameMatcher.exact);
  if (header.value === undefined) return { kind: 'test', attribute: { kind: 'header', name }, test: { kind: 'exists' } };
  const m = toStringMatcher(header.value.matcher);
  if (typeof m === 'string') {
    fail(['header', 'value', 'matcher', 'regex'], m);
    return undefined;
  }
  return testString({ kind: 'header', name }, m);
}

/**
 * `mediaType` compares the media type of `content-type` (RFC 9110 §8.3.1: `type/subtype`, before any `;`
 * parameter, surrounding whitespace ignored), always case-insensitively. Built as one RE2 over the header value.
 */
export function mediaTypeRegex(m: CaseInsensitiveMatcher): CompiledRegex | string {
  const ows = '[ \\t]*';
  const params = '(?:;.*)?';
  let body: string;
  if (m.exact !== undefined) body = `${ows}${RE2JS.quote(m.exact)}${ows}`;
  else if (m.prefix !== undefined) body = `${ows}${RE2JS.quote(m.prefix)}[^;]*`;
  else if (m.suffix !== undefined) body = `[^;]*${RE2JS.quote(m.suffix)}${ows}`;
  else if (m.contains !== undefined) body = `[^;]*${RE2JS.quote(m.contains)}[^;]*`;
  else body = `${ows}(?:${m.regex ?? ''})${ows}`;
  return compileRe2(`${body}${params}`, true);
}
