import type { HeaderToSet } from '../model/decision.js';
import type { Identity } from '../model/identity.js';
import type { JwtProvider } from '../model/policy.js';

/** Longest claim header value we emit (Envoy's whole request-header budget is 60 KiB). */
const MAX_VALUE = 8 * 1024;
const UINT64_LIMIT = 2 ** 64;

/**
 * The headers a verifying provider sets upstream (Envoy authenticator.cc addJWTClaimToHeader / handleGoodJwt).
 * `outputPayloadToHeader` gets the payload segment verbatim (base64url, unpadded: Istio never sets
 * pad_forward_payload_header, semantics §0.7).
 */
export function claimHeaders(p: JwtProvider, identity: Identity): HeaderToSet[] {
  const out: HeaderToSet[] = [];
  if (p.outputPayloadToHeader !== undefined) out.push({ name: p.outputPayloadToHeader, value: identity.payloadSegment });
  for (const { header, claim } of p.outputClaimToHeaders) {
    const value = claimHeaderValue(identity.claims, claim);
    if (value !== undefined) out.push({ name: header, value });
  }
  return out;
}

/**
 * One claim as header text (semantics §0.8): strings as-is; integral numbers in [0, 2^64) as integers, other numbers
 * as C++ std::to_string (6 decimals); booleans; objects and arrays as padded base64 of their JSON (newest Envoy);
 * missing, null or empty ⇒ no header. Values with control characters, ill-formed Unicode or over 8 KiB are omitted
 * so nothing we emit can split a header (CVE-2023-27493).
 */
export function claimHeaderValue(claims: Readonly<Record<string, unknown>>, path: string): string | undefined {
  let cur: unknown = claims;
  for (const key of splitPath(path)) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  let text: string;
  if (typeof cur === 'string') text = cur;
  else if (typeof cur === 'number') {
    if (!Number.isFinite(cur)) return undefined;
    text = Number.isInteger(cur) && cur >= 0 && cur < UINT64_LIMIT ? BigInt(cur).toString() : cur.toFixed(6);
  } else if (typeof cur === 'boolean') text = cur ? 'true' : 'false';
  else if (cur !== null && typeof cur === 'object') text = Buffer.from(JSON.stringify(cur), 'utf8').toString('base64');
  else return undefined;
  if (text === '' || text.length > MAX_VALUE || !text.isWellFormed() || /[\u0000-\u001f\u007f]/.test(text)) return undefined;
  return text;
}

const headerNames = new WeakMap<JwtProvider, readonly string[]>();

const splitPaths = new Map<string, readonly string[]>();

/** `a.b` → ['a', 'b'], memoised (claim paths come from configuration, so the map stays small). */
function splitPath(path: string): readonly string[] {
  let parts = splitPaths.get(path);
  if (parts === undefined) {
    parts = Object.freeze(path.split('.'));
    if (splitPaths.size < 10_000) splitPaths.set(path, parts);
  }
  return parts;
}

/** Every header name a provider may set: a client's own copy is always stripped (extractor.cc sanitizeHeaders). */
export function outputHeaderNames(p: JwtProvider): readonly string[] {
  let names = headerNames.get(p);
  if (names === undefined) {
    const list = p.outputClaimToHeaders.map((o) => o.header.toLowerCase());
    if (p.outputPayloadToHeader !== undefined) list.push(p.outputPayloadToHeader.toLowerCase());
    names = Object.freeze(list);
    headerNames.set(p, names);
  }
  return names;
}
