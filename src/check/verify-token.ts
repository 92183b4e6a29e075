import { compactVerify, importJWK, type CryptoKey, type JWK } from 'jose';
import type { DenyReason } from '../model/decision.js';
import type { Identity } from '../model/identity.js';
import type { UsableKey } from '../model/jwk.js';
import type { JwtProvider } from '../model/policy.js';
import { matchString } from './evaluate-predicate.js';
import type { KeySet, KeyStore } from './jwks.js';
import { type ParsedJwt, parseJwt } from './parse-jwt.js';
import type { TokenCache } from './token-cache.js';

export type VerifyResult =
  | { readonly ok: true; readonly identity: Identity; readonly provider: JwtProvider; readonly cached: boolean }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: DenyReason; readonly message: string };

export interface VerifyDeps {
  readonly keys: KeyStore;
  readonly cache: TokenCache | undefined;
  /** Milliseconds since epoch. */
  readonly now: () => number;
  /** Epoch ms by which any wait for keys must end. */
  readonly deadline: number;
  readonly maxTokenBytes: number;
}

/**
 * Verifies a token against the providers configured for the place it was found (requireAny: the first
 * provider that accepts it wins). Envoy's order: structure → issuer → time → audience → keys and signature.
 */
export async function verifyToken(token: string, providers: readonly JwtProvider[], deps: VerifyDeps): Promise<VerifyResult> {
  const cacheKey = deps.cache?.keyOf(token);
  if (cacheKey !== undefined) {
    const hit = lookupCache(cacheKey, providers, deps);
    if (hit !== undefined) return hit;
  }
  const jwt = parseJwt(token, deps.maxTokenBytes);
  if ('reason' in jwt) return failure(401, jwt.reason, jwt.message);
  const iss = jwt.payload['iss'];
  // Envoy JwtIssuerChecker: exact, case-sensitive; an empty configured issuer accepts any.
  const matching = providers.filter((p) => p.issuer === '' || p.issuer === iss);
  if (matching.length === 0) return failure(401, 'issuer_unknown', 'Jwt issuer is not configured');
  let first: VerifyResult | undefined;
  for (const provider of matching) {
    const r = await verifyWith(token, jwt, provider, deps);
    if (r.ok) {
      if (cacheKey !== undefined) {
        const keyGeneration = deps.keys.peek(provider.keys)?.generation ?? -1;
        deps.cache?.set(cacheKey, { identity: r.identity, providerFingerprint: fingerprintOf(provider), keyGeneration });
      }
      return r;
    }
    first ??= r;
  }
  return first ?? failure(401, 'token_invalid', 'Jwt verification fails');
}

/** A cache hit counts only if it would decide exactly as a fresh verification. */
function lookupCache(key: string, providers: readonly JwtProvider[], deps: VerifyDeps): VerifyResult | undefined {
  const entry = deps.cache?.get(key);
  if (entry === undefined) return undefined;
  const provider = providers.find((p) => p.id === entry.identity.providerId && fingerprintOf(p) === entry.providerFingerprint);
  if (provider === undefined) return undefined;
  if (deps.keys.peek(provider.keys)?.generation !== entry.keyGeneration) return undefined;
  const nowSec = Math.floor(deps.now() / 1000);
  // Same boundaries as checkTime below; on a miss the full path produces the precise reason.
  if (nowSec > entry.identity.notAfter || nowSec < entry.identity.notBefore) return undefined;
  return { ok: true, identity: entry.identity, provider, cached: true };
}

async function verifyWith(token: string, jwt: ParsedJwt, p: JwtProvider, deps: VerifyDeps): Promise<VerifyResult> {
  const c = jwt.payload;
  const nowSec = Math.floor(deps.now() / 1000);
  const exp = typeof c['exp'] === 'number' ? Math.trunc(c['exp']) : undefined;
  const nbf = typeof c['nbf'] === 'number' ? Math.trunc(c['nbf']) : undefined;
  const iat = typeof c['iat'] === 'number' ? Math.trunc(c['iat']) : undefined;
  const skew = p.clockSkewSec;
  if (exp === undefined && p.requireExpiration) return failure(401, 'claim_invalid', 'Jwt payload [exp] field is required');
  // Envoy verifyTimeConstraint: `now + skew < nbf` is not yet valid, `now > exp + skew` is expired.
  if (nbf !== undefined && nowSec + skew < nbf) return failure(401, 'token_not_yet_valid', 'Jwt not yet valid');
  // [deviation] exp == 0 is expired (RFC 7519 §4.1.4); jwt_verify_lib reads 0 as "no exp".
  if (exp !== undefined && (exp === 0 || nowSec > exp + skew)) return failure(401, 'token_expired', 'Jwt is expired');
  if (p.maxLifetimeSec !== undefined) {
    // Airlock maxLifetime: exp − nbf, else exp − iat; a missing claim makes the token invalid.
    const start = nbf ?? iat;
    if (exp === undefined || start === undefined) return failure(401, 'claim_invalid', 'Jwt lacks the claims to check its lifetime');
    if (exp - start > p.maxLifetimeSec) return failure(401, 'claim_invalid', 'Jwt lifetime is longer than allowed');
  }
  const aud = c['aud'];
  const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? (aud as string[]) : [];
  if (p.audiences.length > 0 && !audiencesFit(auds, p)) {
    return failure(p.audienceMismatchStatus, 'audience_mismatch', 'Audiences in Jwt are not allowed');
  }
  const sub = typeof c['sub'] === 'string' ? c['sub'] : undefined;
  if (p.subject !== undefined && (sub === undefined || !matchString(p.subject, sub))) {
    return failure(401, 'claim_invalid', 'Jwt subject is not allowed');
  }
  let set = deps.keys.peek(p.keys) ?? (await deps.keys.get(p.keys, deps.deadline));
  if (set === undefined) return failure(401, 'jwks_unavailable', 'Jwks remote fetch is failed');
  let candidates = selectKeys(set, jwt);
  if (candidates.length === 0 && p.keys.kind !== 'inline') {
    set = await deps.keys.refreshForUnknownKid(p.keys, deps.deadline);
    if (set !== undefined) candidates = selectKeys(set, jwt);
  }
  if (candidates.length === 0) return failure(401, 'key_not_found', "Jwks doesn't have key to match kid or alg from Jwt");
  for (const key of candidates) {
    if (await verifySignature(token, key, jwt.alg)) {
      return { ok: true, identity: toIdentity(jwt, p, sub, auds, exp, nbf), provider: p, cached: false };
    }
  }
  return failure(401, 'signature_invalid', 'Jwt verification fails');
}

/** Audiences sanitised as jwt_verify_lib check_audience.cc; any-of (Istio, Airlock) or all-of (Kyma). */
function audiencesFit(tokenAuds: readonly string[], p: JwtProvider): boolean {
  const have = new Set(tokenAuds.map(sanitize));
  return p.audiencesAll ? p.audiences.every((a) => have.has(a)) : p.audiences.some((a) => have.has(a));
}

function sanitize(a: string): string {
  let s = a.startsWith('http://') ? a.slice(7) : a.startsWith('https://') ? a.slice(8) : a;
  if (s.endsWith('/')) s = s.slice(0, -1);
  return s;
}

/**
 * Envoy verify.cc key selection: the key type must fit the alg, a JWK `alg` must equal it, and kids must be equal
 * when both sides have one (a kid-less JWK is a candidate for any token, a kid-less token tries every key).
 */
export function selectKeys(set: KeySet, jwt: Pick<ParsedJwt, 'alg' | 'kid'>): UsableKey[] {
  const out: UsableKey[] = [];
  for (const k of set.keys) {
    if (!k.algs.includes(jwt.alg)) continue;
    if (jwt.kid !== undefined && k.kid !== undefined && k.kid !== jwt.kid) continue;
    out.push(k);
  }
  return out;
}

const imported = new WeakMap<UsableKey, Map<string, Promise<CryptoKey | Uint8Array>>>();

async function verifySignature(token: string, key: UsableKey, alg: string): Promise<boolean> {
  let byAlg = imported.get(key);
  if (byAlg === undefined) imported.set(key, (byAlg = new Map()));
  let k = byAlg.get(alg);
  if (k === undefined) {
    k = importJWK(key.jwk as JWK, alg);
    byAlg.set(alg, k);
  }
  try {
    // One key and a one-element algorithm list: jose never picks keys or algorithms itself (security.md §0.2).
    await compactVerify(token, await k, { algorithms: [alg] });
    return true;
  } catch {
    return false;
  }
}

function toIdentity(
  jwt: ParsedJwt,
  p: JwtProvider,
  sub: string | undefined,
  audiences: readonly string[],
  exp: number | undefined,
  nbf: number | undefined,
): Identity {
  const claims = jwt.payload;
  let matchClaims: Record<string, unknown> | undefined;
  // The provider lists every claim to split (Istio/Kyma: `scope`, `permission` and spaceDelimitedClaims).
  for (const name of p.spaceDelimitedClaims) {
    const v = Object.hasOwn(claims, name) ? claims[name] : undefined;
    if (typeof v !== 'string') continue;
    matchClaims ??= { ...claims };
    matchClaims[name] = v.split(' ').filter((s) => s !== '');
  }
  return Object.freeze({
    issuer: typeof claims['iss'] === 'string' ? claims['iss'] : '',
    subject: sub === '' ? undefined : sub,
    audiences,
    claims,
    matchClaims: matchClaims ?? claims,
    payloadSegment: jwt.payloadSegment,
    providerId: p.id,
    notAfter: exp === undefined ? Infinity : exp + p.clockSkewSec,
    notBefore: nbf === undefined ? -Infinity : nbf - p.clockSkewSec,
  });
}

const fingerprints = new WeakMap<JwtProvider, string>();

/** Configuration fingerprint of a provider (its JSON form; regexes by their source). */
export function fingerprintOf(p: JwtProvider): string {
  let f = fingerprints.get(p);
  if (f === undefined) {
    f = JSON.stringify(p, (_k, v: unknown) => (v instanceof Object && 'test' in v && 'source' in v ? `re:${String(v.source)}` : v));
    fingerprints.set(p, f);
  }
  return f;
}

function failure(status: 401 | 403, reason: DenyReason, message: string): VerifyResult {
  return { ok: false, status, reason, message };
}
