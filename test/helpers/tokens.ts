import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** A signing key generated for one test run, with its public JWK. */
export interface TestKey {
  readonly kid: string | undefined;
  readonly alg: string;
  readonly privateKey: CryptoKey | Uint8Array;
  readonly publicJwk: JWK;
}

/** Generates a key for `alg` (RS*, PS*, ES*, EdDSA, HS*). The JWK carries `kid` (unless null) and no `alg`. */
export async function generateTestKey(alg = 'RS256', kid: string | null = 'k1'): Promise<TestKey> {
  if (alg.startsWith('HS')) {
    const bits = Number(alg.slice(2));
    const secret = randomBytes(bits / 8);
    const jwk: JWK = { kty: 'oct', k: secret.toString('base64url') };
    if (kid !== null) jwk.kid = kid;
    return { kid: kid ?? undefined, alg, privateKey: new Uint8Array(secret), publicJwk: jwk };
  }
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const jwk = await exportJWK(publicKey);
  if (kid !== null) jwk.kid = kid;
  return { kid: kid ?? undefined, alg, privateKey, publicJwk: jwk };
}

/** `{"keys":[...]}` text for the given keys. */
export function jwksOf(...keys: TestKey[]): string {
  return JSON.stringify({ keys: keys.map((k) => k.publicJwk) });
}

/** Signs `claims` with `key`. `iat`/`exp` default to now / now+1h unless given (pass `exp: undefined` to omit). */
export async function mintToken(
  key: TestKey,
  claims: Record<string, unknown>,
  options: { readonly header?: Record<string, unknown>; readonly nowSec?: number } = {},
): Promise<string> {
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  const body: Record<string, unknown> = { iat: now, exp: now + 3600, ...claims };
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  const header: Record<string, unknown> = { alg: key.alg, typ: 'JWT', ...options.header };
  if (key.kid !== undefined && !('kid' in (options.header ?? {}))) header['kid'] = key.kid;
  return new SignJWT(body).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

/** Short fingerprint of a token, to show in test names without printing it. */
export function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

/** The same key material re-imported for another algorithm (an RSA key serves RS* and PS*). */
export async function withAlg(key: TestKey, alg: string): Promise<TestKey> {
  if (key.privateKey instanceof Uint8Array) return { ...key, alg };
  const jwk = await exportJWK(key.privateKey);
  const { importJWK } = await import('jose');
  return { ...key, alg, privateKey: (await importJWK(jwk, alg)) as CryptoKey };
}
