/**
 * Fixture F1 of security.md §1 (plus F4 of §1.6) and a raw signer for hand-built tokens.
 *
 * F1: one RequestAuthentication in the root namespace, issuer `https://issuer.test`, inline JWKS with
 * k1 (RSA-2048, no `alg`), ec1 (P-256), ed1 (Ed25519), hs1 (oct, 32 bytes), and the seed-003 style DENY
 * (`notRequestPrincipals: ["*"]` / `notPaths: ["/productpage", "/public/*"]`). The rule also names two output
 * claim headers (`x-sub` ← sub, `x-note` ← note) and `outputPayloadToHeader: x-jwt-payload`, so tests can see
 * which claims an allow carried (security.md §1.7); none of that changes a decision.
 * F4 (root namespace; run in a service of its own together with F1, so it never meets F1-only rows): ALLOW hosts
 * httpbin.example.com / key.example.com, GET/POST, /headers.
 *
 * All keys are generated per run; tokens are minted at test time and never committed.
 */
import { KeyObject, constants, createHmac, createPublicKey, sign as nodeSign } from 'node:crypto';
import { generateTestKey, type TestKey } from '../helpers/tokens.js';

/** The WebCrypto key type node:crypto's KeyObject.from takes (jose keys are WebCrypto keys). */
export type WebCryptoKey = Parameters<typeof KeyObject.from>[0];

export const ISSUER = 'https://issuer.test';

export interface F1Keys {
  /** RS256, kid k1 (JWK without `alg`). */
  readonly k1: TestKey;
  /** ES256 / P-256, kid ec1. */
  readonly ec1: TestKey;
  /** EdDSA / Ed25519, kid ed1. */
  readonly ed1: TestKey;
  /** HS256, kid hs1, 32-byte secret. */
  readonly hs1: TestKey;
  /** RS256 key NOT in the JWKS (the attacker's), kid k1. */
  readonly attacker: TestKey;
  /** k1's public key as PEM (for the alg-confusion token). */
  readonly k1Pem: string;
}

export async function f1Keys(): Promise<F1Keys> {
  const [k1, ec1, ed1, hs1, attacker] = await Promise.all([
    generateTestKey('RS256', 'k1'),
    generateTestKey('ES256', 'ec1'),
    generateTestKey('EdDSA', 'ed1'),
    generateTestKey('HS256', 'hs1'),
    generateTestKey('RS256', 'k1'),
  ]);
  const k1Pem = createPublicKey(KeyObject.from(k1.privateKey as WebCryptoKey)).export({ type: 'spki', format: 'pem' }).toString();
  return { k1, ec1, ed1, hs1, attacker, k1Pem };
}

/** The F1 policy file (and F4 when `withF4`), keyed by file name for `startTestService`. */
export function f1Policies(keys: F1Keys, options: { readonly withF4?: boolean } = {}): Record<string, string> {
  const jwks = JSON.stringify({ keys: [keys.k1.publicJwk, keys.ec1.publicJwk, keys.ed1.publicJwk, keys.hs1.publicJwk] });
  const f1 = `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: f1, namespace: istio-system}
spec:
  jwtRules:
  - issuer: ${ISSUER}
    jwks: '${jwks}'
    outputPayloadToHeader: x-jwt-payload
    outputClaimToHeaders:
    - {header: x-sub, claim: sub}
    - {header: x-note, claim: note}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: istio-system}
spec:
  action: DENY
  rules:
  - from: [{source: {notRequestPrincipals: ["*"]}}]
    to: [{operation: {notPaths: ["/productpage", "/public/*"]}}]
`;
  const f4 = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: f4, namespace: istio-system}
spec:
  action: ALLOW
  rules:
  - to: [{operation: {hosts: ["httpbin.example.com", "key.example.com"], methods: ["GET", "POST"], paths: ["/headers"]}}]
`;
  return options.withF4 === true ? { 'f1.yaml': f1, 'f4.yaml': f4 } : { 'f1.yaml': f1 };
}

/** base64url of text (UTF-8) or bytes, unpadded. */
export function b64u(value: string | Uint8Array): string {
  return Buffer.from(typeof value === 'string' ? Buffer.from(value, 'utf8') : value).toString('base64url');
}

/** Signature bytes over `signingInput` for `alg` with the key's private half (any RSA key signs RS* and PS*). */
export function signBytes(key: TestKey, alg: string, signingInput: string): Buffer {
  const data = Buffer.from(signingInput, 'ascii');
  if (key.privateKey instanceof Uint8Array) return createHmac(`sha${alg.slice(2)}`, key.privateKey).update(data).digest();
  const k = KeyObject.from(key.privateKey as WebCryptoKey);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('RS')) return nodeSign(hash, data, k);
  if (alg.startsWith('PS')) return nodeSign(hash, data, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  if (alg.startsWith('ES')) return nodeSign(hash, data, { key: k, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA') return nodeSign(null, data, k);
  throw new TypeError(`signBytes: no signer for ${alg}`);
}

/**
 * A compact JWS from raw parts: `header` / `payload` are objects (JSON-encoded) or JSON *text* used verbatim
 * (duplicates, odd numbers), signed with `key` under `signAlg` (default: the header's alg, else the key's).
 */
export function signRaw(
  key: TestKey,
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
  signAlg?: string,
): string {
  const h = b64u(typeof header === 'string' ? header : JSON.stringify(header));
  const p = b64u(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const alg = signAlg ?? (typeof header === 'object' && typeof header['alg'] === 'string' ? header['alg'] : key.alg);
  return `${h}.${p}.${signBytes(key, alg, `${h}.${p}`).toString('base64url')}`;
}

/** Seconds since epoch now. */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** The default valid claims: `{iss, sub: alice, iat: now, exp: now+3600}`. */
export function validClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSec();
  return { iss: ISSUER, sub: 'alice', iat: now, exp: now + 3600, ...extra };
}

/** Waits until the current second has at least 600 ms left, so a token minted now is checked within it. */
export async function alignToSecond(): Promise<void> {
  const left = 1000 - (Date.now() % 1000);
  if (left < 600) await new Promise((r) => setTimeout(r, left + 5));
}
