import { RE2JS } from 're2js';
import type { z } from 'zod';
import { parseIp } from '../model/ip.js';
import type { CidrRange, CompiledRegex, StringMatcher } from '../model/matcher.js';
import { type ConfigIssue, formatPath } from './config-issue.js';
import type { RawDocument } from './read-documents.js';

/** Zod issues → ConfigIssues at the document's location. */
export function zodIssues(doc: RawDocument, error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigIssue[] {
  return error.issues.map((i) => ({
    file: doc.file,
    document: doc.index,
    path: formatPath([...prefix, ...i.path]),
    // zod 4 words a missing field "expected string, received undefined"; say it the Kubernetes way.
    message: i.code === 'invalid_type' && i.message.endsWith('received undefined') ? 'Required' : i.message,
    severity: 'error' as const,
  }));
}

/** An issue at a document path. */
export function issueAt(
  doc: RawDocument,
  path: readonly PropertyKey[],
  message: string,
  severity: 'error' | 'warning' = 'error',
): ConfigIssue {
  return { file: doc.file, document: doc.index, path: formatPath(path), message, severity };
}

/**
 * Istio string match forms (authorization_policy.proto): exact, `prefix*`, `*suffix`, `*` (any non-empty).
 * A `*` anywhere else is a literal.
 */
export function istioStringMatcher(value: string, ignoreCase = false): StringMatcher {
  if (value === '*') return { kind: 'nonEmpty' };
  if (value.startsWith('*')) return { kind: 'suffix', value: fold(value.slice(1), ignoreCase), ignoreCase };
  if (value.endsWith('*')) return { kind: 'prefix', value: fold(value.slice(0, -1), ignoreCase), ignoreCase };
  return { kind: 'exact', value: fold(value, ignoreCase), ignoreCase };
}

/** ASCII-only lower-casing (RFC 4343): JS toLowerCase folds U+212A KELVIN SIGN to `k` (security.md §0.6). */
export function asciiLower(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : value[i];
  }
  return out;
}

function fold(value: string, ignoreCase: boolean): string {
  return ignoreCase ? asciiLower(value) : value;
}

// Envoy uri_template_internal.cc: the characters a path segment may hold.
const SEGMENT_CHARS = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";
const LITERAL_SEGMENT = /^([A-Za-z0-9\-._~!$&'()+,;=:@]|%[0-9A-Fa-f]{2})*$/;

/** true if an Istio path value is a URI template (contains `{*}` or `{**}`). */
export function isPathTemplate(value: string): boolean {
  return value.includes('{*}') || value.includes('{**}');
}

/**
 * Compiles an Istio / Kyma path template (`/api/{*}/items/{**}`) into a full-match regex as Envoy does:
 * `{*}` = one non-empty segment, `{**}` = zero or more characters including `/`.
 * Returns an error message for templates Istio rejects (security.go CheckValidPathTemplate).
 */
export function compilePathTemplate(
  value: string,
  options: { readonly allowInnerDoubleStar: boolean } = { allowInnerDoubleStar: false },
): CompiledRegex | string {
  if (!value.startsWith('/')) return 'path template must start with "/"';
  const segments = value.slice(1).split('/');
  let pattern = '^';
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    const last = i === segments.length - 1;
    if (seg === '{*}') pattern += `/[${SEGMENT_CHARS}]+`;
    else if (seg === '{**}') {
      if (!last && !options.allowInnerDoubleStar) return '"{**}" must be the last segment of a path template';
      // `/{**}` matches `/` and anything below; in the middle it spans one or more segments.
      pattern += last ? `/[${SEGMENT_CHARS}/]*` : `/[${SEGMENT_CHARS}/]+`;
    } else {
      if (seg.includes('*') || seg.includes('{') || seg.includes('}')) {
        return `segment "${seg}": "*", "{" and "}" are only allowed as whole-segment operators {*} or {**}`;
      }
      if (!LITERAL_SEGMENT.test(seg)) return `segment "${seg}" holds characters not allowed in a path`;
      pattern += `/${escapeRegex(seg)}`;
    }
  }
  pattern += '$';
  const re = new RegExp(pattern);
  return { source: value, test: (s) => re.test(s) };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Largest regex we accept from a policy (Airlock's CRD limit). */
export const MAX_REGEX_LENGTH = 256;

/**
 * Compiles an RE2 regex (Airlock `regex`, full match) with re2js: linear-time, RE2 syntax and semantics,
 * so JavaScript-only constructs (lookaround, backreferences) are rejected rather than run differently.
 */
export function compileRe2(source: string, ignoreCase: boolean): CompiledRegex | string {
  if (source.length > MAX_REGEX_LENGTH) return `regex longer than ${MAX_REGEX_LENGTH} characters`;
  try {
    const re = RE2JS.compile(source, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    return { source, test: (s) => re.matches(s) };
  } catch (err) {
    return `invalid RE2 regex: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Parses `10.0.0.0/8`, `192.168.1.1`, `2001:db8::/32`. Returns an error message when invalid.
 * The network is masked (Istio accepts host bits set and ignores them).
 */
export function parseCidr(text: string): CidrRange | string {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  const ip = parseIp(addr);
  if (ip === undefined) return `"${text}" is not a valid IP address or CIDR`;
  const bits = ip.version === 4 ? 32 : 128;
  let prefixLength = bits;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return `"${text}" has an invalid prefix length`;
    prefixLength = Number(p);
  }
  const mask = prefixLength === 0 ? 0n : ((1n << BigInt(prefixLength)) - 1n) << BigInt(bits - prefixLength);
  return { version: ip.version, network: ip.value & mask, prefixLength, text };
}

/** Audience sanitising as jwt_verify_lib check_audience.cc: drop `http://`/`https://` and one trailing `/`. */
export function sanitizeAudience(aud: string): string {
  let a = aud;
  if (a.startsWith('http://')) a = a.slice(7);
  else if (a.startsWith('https://')) a = a.slice(8);
  if (a.endsWith('/')) a = a.slice(0, -1);
  return a;
}
