/**
 * Which JWKs may verify which algorithms (security.md §2.4). Shared by the config path (inline `jwks`, checked at
 * load) and the request path (remote key sets, checked at fetch). Pure: no crypto here.
 */

/** A key that passed validation: its public members only, and the algorithms it may verify. */
export interface UsableKey {
  readonly kid: string | undefined;
  readonly kty: 'RSA' | 'EC' | 'OKP' | 'oct';
  readonly algs: readonly string[];
  readonly jwk: Readonly<Record<string, unknown>>;
}

export type KeyCheck =
  | { readonly ok: true; readonly key: UsableKey; readonly hadPrivateMembers: boolean }
  | { readonly ok: false; readonly reason: string };

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] as const;
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
  oct: ['kty', 'k'],
};
const EC_CURVES: Readonly<Record<string, string>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
const B64URL = /^[A-Za-z0-9_-]+$/;

function b64Length(v: unknown): number {
  return typeof v === 'string' && B64URL.test(v) ? Buffer.from(v, 'base64url').length : -1;
}

/** Validates one JWK and lists the algorithms it may be used with. */
export function checkJwk(raw: unknown): KeyCheck {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return no('key is not a JSON object');
  const jwk = raw as Record<string, unknown>;
  const kty = jwk['kty'];
  const alg = jwk['alg'];
  const kid = jwk['kid'];
  if (kid !== undefined && typeof kid !== 'string') return no('"kid" is not a string');
  if (alg !== undefined && typeof alg !== 'string') return no('"alg" is not a string');
  // RFC 7517 §4.2–4.3: only signature keys.
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return no(`"use" is ${JSON.stringify(jwk['use'])}, not "sig"`);
  const ops = jwk['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return no('"key_ops" does not include "verify"');
  let algs: string[];
  switch (kty) {
    case 'RSA': {
      const n = b64Length(jwk['n']);
      if (n < 0 || b64Length(jwk['e']) <= 0) return no('RSA key needs "n" and "e"');
      // RFC 7518 §3.3: 2048 bits at least; 8192 bounds verification cost.
      if (n < 256) return no(`RSA modulus of ${n * 8} bits is shorter than 2048`);
      if (n > 1024) return no(`RSA modulus of ${n * 8} bits is longer than 8192`);
      algs = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
      break;
    }
    case 'EC': {
      const crv = jwk['crv'];
      const ecAlg = typeof crv === 'string' ? EC_CURVES[crv] : undefined;
      if (ecAlg === undefined) return no(`EC curve ${JSON.stringify(crv)} is not supported`);
      if (b64Length(jwk['x']) <= 0 || b64Length(jwk['y']) <= 0) return no('EC key needs "x" and "y"');
      algs = [ecAlg];
      break;
    }
    case 'OKP':
      if (jwk['crv'] !== 'Ed25519') return no(`OKP curve ${JSON.stringify(jwk['crv'])} is not supported`);
      if (b64Length(jwk['x']) !== 32) return no('Ed25519 key needs a 32-byte "x"');
      algs = ['EdDSA'];
      break;
    case 'oct': {
      const len = b64Length(jwk['k']);
      if (len <= 0) return no('oct key needs "k"');
      // RFC 7518 §3.2: the key must be at least as long as the hash output.
      algs = (['HS256', 'HS384', 'HS512'] as const).filter((a) => len >= Number(a.slice(2)) / 8);
      if (algs.length === 0) return no(`HMAC key of ${len} bytes is shorter than 32`);
      break;
    }
    default:
      return no(`key type ${JSON.stringify(kty)} is not supported`);
  }
  if (typeof alg === 'string') {
    if (!algs.includes(alg)) return no(`"alg" ${alg} does not fit a ${String(kty)} key of this size or curve`);
    algs = [alg];
  }
  const members = PUBLIC_MEMBERS[kty] ?? [];
  const pub: Record<string, unknown> = {};
  for (const m of members) pub[m] = jwk[m];
  const hadPrivateMembers = kty !== 'oct' && PRIVATE_MEMBERS.some((m) => jwk[m] !== undefined);
  return { ok: true, key: { kid: kid as string | undefined, kty, algs, jwk: pub }, hadPrivateMembers };
}

function no(reason: string): KeyCheck {
  return { ok: false, reason };
}

/** Upper bound on keys per set: a kid-less token costs one signature check per candidate (security.md §2.2). */
export const MAX_KEYS_PER_SET = 64;

/**
 * Checks a whole JWKS document. `keys` must be an array; bad keys are skipped with a warning (RFC 7517 §5);
 * `dropPrivate` (remote sets) drops keys that carry private members instead of stripping them.
 */
export function checkJwks(
  doc: unknown,
  dropPrivate: boolean,
): { readonly keys: UsableKey[]; readonly warnings: string[]; readonly error: string | undefined } {
  const warnings: string[] = [];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { keys: [], warnings, error: 'JWKS is not a JSON object' };
  const list = (doc as Record<string, unknown>)['keys'];
  if (!Array.isArray(list)) return { keys: [], warnings, error: 'JWKS has no "keys" array' };
  if (list.length > MAX_KEYS_PER_SET) return { keys: [], warnings, error: `JWKS has more than ${MAX_KEYS_PER_SET} keys` };
  const keys: UsableKey[] = [];
  list.forEach((raw, i) => {
    const c = checkJwk(raw);
    const label = `keys[${i}]${c.ok && c.key.kid !== undefined ? ` (kid ${c.key.kid.slice(0, 64)})` : ''}`;
    if (!c.ok) warnings.push(`${label} skipped: ${c.reason}`);
    else if (c.hadPrivateMembers && dropPrivate) warnings.push(`${label} dropped: it carries private key members`);
    else {
      if (c.hadPrivateMembers) warnings.push(`${label} carries private key members: only its public part is used`);
      keys.push(c.key);
    }
  });
  if (keys.length === 0) return { keys, warnings, error: 'JWKS has no usable key' };
  return { keys, warnings, error: undefined };
}
