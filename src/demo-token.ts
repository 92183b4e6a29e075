import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignJWT, importJWK, type JWK } from 'jose';

/** The demo issuer of `policies/demo.yaml`; its private key is published in deploy/demo/ (demo only). */
export const DEMO_ISSUER = 'https://demo.envoy-jwt-authz.local';
const KEY_FILE = fileURLToPath(new URL('../deploy/demo/issuer-private.jwk.json', import.meta.url));

/** Signs a token for the demo issuer. `claims` are `key=value` strings (numbers and true/false are typed). */
export async function mintDemoToken(options: { sub: string; ttlSec: number; claims: readonly string[] }): Promise<string> {
  const jwk = JSON.parse(readFileSync(KEY_FILE, 'utf8')) as JWK;
  const key = await importJWK(jwk, 'RS256');
  const extra: Record<string, unknown> = {};
  for (const c of options.claims) {
    const eq = c.indexOf('=');
    if (eq <= 0) throw new Error(`--claim "${c}" is not key=value`);
    const v = c.slice(eq + 1);
    extra[c.slice(0, eq)] = v === 'true' ? true : v === 'false' ? false : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...extra, sub: options.sub })
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid ?? 'demo-2026', typ: 'JWT' })
    .setIssuer(DEMO_ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSec)
    .sign(key);
}
