import type { DenyReason } from '../model/decision.js';

/**
 * The strict layer in front of jose (security.md §0.1, §1.1, §1.3): structure, encoding, JSON shape and claim
 * types as Envoy's jwt_verify_lib checks them, plus our documented deviations. jose does the cryptography.
 */

/** Algorithms Envoy implements (jwt_verify_lib jwt.cc isImplemented). */
export const SUPPORTED_ALGS: ReadonlySet<string> = new Set([
  'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA',
]);

export interface ParsedJwt {
  readonly alg: string;
  readonly kid: string | undefined;
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly payloadSegment: string;
}

export interface JwtFailure {
  readonly reason: DenyReason;
  readonly message: string;
}

const MAX_JSON_DEPTH = 64;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const B64URL = /^[A-Za-z0-9_-]+$/;
/** RFC 7519 NumericDate bounds as Envoy enforces them (GetUInt64: 0 ≤ v < 2^64). */
const UINT64_LIMIT = 2 ** 64;

/** Parses and type-checks a compact JWS without verifying it. */
export function parseJwt(token: string, maxBytes: number): ParsedJwt | JwtFailure {
  if (token.length > maxBytes) return fail('token_too_large', `Jwt is larger than ${maxBytes} bytes`);
  // Count dots with an early exit before any split (golang-jwt CVE-2025-30204).
  const d1 = token.indexOf('.');
  const d2 = d1 === -1 ? -1 : token.indexOf('.', d1 + 1);
  if (d1 <= 0 || d2 === -1 || d2 === d1 + 1 || d2 === token.length - 1 || token.indexOf('.', d2 + 1) !== -1) {
    return fail('token_malformed', 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections');
  }
  const h = token.slice(0, d1);
  const p = token.slice(d1 + 1, d2);
  const s = token.slice(d2 + 1);
  const header = decodeJsonSegment(h, 'header');
  if ('reason' in header) return header;
  const payload = decodeJsonSegment(p, 'payload');
  if ('reason' in payload) return payload;
  // [deviation] non-canonical or padded base64url is refused (Envoy tolerates `=`), so a token has one spelling.
  if (!isCanonicalB64(s)) return fail('token_malformed', 'Jwt signature is an invalid Base64url encoded');

  const alg = header.value['alg'];
  if (typeof alg !== 'string') return fail('token_malformed', 'Jwt header [alg] field is required and must be a string');
  if (!SUPPORTED_ALGS.has(alg)) return fail('algorithm_unsupported', 'Jwt header [alg] is not supported');
  const kid = header.value['kid'];
  if (kid !== undefined && typeof kid !== 'string') return fail('token_malformed', 'Jwt header [kid] field is not a string');
  // RFC 7515 §4.1.11: we understand no extension, so any `crit` makes the JWS invalid. [deviation: Envoy ignores crit]
  if (Object.hasOwn(header.value, 'crit')) return fail('token_invalid', 'Jwt header [crit] names parameters that are not supported');

  const claims = payload.value;
  for (const name of ['iss', 'sub', 'jti'] as const) {
    if (Object.hasOwn(claims, name) && typeof claims[name] !== 'string') {
      return fail('claim_invalid', `Jwt payload [${name}] field is not a string`);
    }
  }
  for (const name of ['iat', 'nbf', 'exp'] as const) {
    if (!Object.hasOwn(claims, name)) continue;
    const v = claims[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail('claim_invalid', `Jwt payload [${name}] field is not an integer`);
    if (v < 0 || v >= UINT64_LIMIT) return fail('claim_invalid', `Jwt payload [${name}] field is not a positive 64 bit integer`);
  }
  if (Object.hasOwn(claims, 'aud')) {
    const aud = claims['aud'];
    const ok = typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'));
    if (!ok) return fail('claim_invalid', 'Jwt payload [aud] field is not a string or string list');
  }
  return { alg, kid, header: header.value, payload: claims, payloadSegment: p };
}

function fail(reason: DenyReason, message: string): JwtFailure {
  return { reason, message };
}

function isCanonicalB64(seg: string): boolean {
  if (!B64URL.test(seg) || seg.length % 4 === 1) return false;
  return Buffer.from(seg, 'base64url').toString('base64url') === seg;
}

function decodeJsonSegment(seg: string, part: 'header' | 'payload'): { value: Record<string, unknown> } | JwtFailure {
  const label = part === 'header' ? 'Jwt header' : 'Jwt payload';
  if (!isCanonicalB64(seg)) return fail('token_malformed', `${label} is an invalid Base64url encoded`);
  const bytes = Buffer.from(seg, 'base64url');
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return fail('token_malformed', `${label} is not valid UTF-8`);
  }
  const guard = guardJson(text);
  if (guard !== undefined) return fail('token_malformed', `${label} ${guard}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('token_malformed', `${label} is an invalid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('token_malformed', `${label} is not a JSON object`);
  }
  return { value: value as Record<string, unknown> };
}

/**
 * A structural pre-scan before JSON.parse: nesting depth (≤ 64) and duplicate member names.
 * [deviation] RFC 7515 §5.2 lets us reject duplicates; jose silently keeps the last (`{"sub":"a","sub":"admin"}`).
 * Not a parser: JSON.parse still decides validity. Returns an error text or undefined.
 */
export function guardJson(text: string): string | undefined {
  const stack: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j++, (escaped = true);
        else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined && top.expectKey) {
        const literal = text.slice(i, j + 1);
        let key = literal.slice(1, -1);
        if (escaped) {
          try {
            key = JSON.parse(literal) as string;
          } catch {
            return 'is an invalid JSON';
          }
        }
        if (top.keys.has(key)) return 'has a duplicate member name';
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) return `is nested deeper than ${MAX_JSON_DEPTH} levels`;
      stack.push({ keys: c === 0x7b ? new Set() : undefined, expectKey: c === 0x7b });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined) top.expectKey = true;
    }
  }
  return undefined;
}
