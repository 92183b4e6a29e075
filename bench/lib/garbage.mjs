// Tokens that must never be allowed, for the soak's 1 % garbage share: malformed, unsigned, tampered, expired,
// forged with a key the issuer never published, and from an issuer nobody configured.
import { randomBytes } from 'node:crypto';
import { generateSigningKey, mintTokens } from './issuers.mjs';

/** An attacker's RSA key, created once per run. */
export async function createAttacker() {
  return { key: await generateSigningKey('RS256', 'attacker-1') };
}

function b64json(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** String-level garbage derived from a valid token (no signing needed). */
function tamper(valid, kind) {
  const [header, payload, signature] = valid.split('.');
  switch (kind) {
    case 'random':
      return `${randomBytes(24).toString('base64url')}.${randomBytes(120).toString('base64url')}.${randomBytes(256).toString('base64url')}`;
    case 'truncated':
      return valid.slice(0, valid.length - 12);
    case 'alg-none':
      return `${b64json({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    case 'unknown-kid': {
      const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
      return `${b64json({ ...h, kid: `rotated-away-${randomBytes(3).toString('hex')}` })}.${payload}.${signature}`;
    }
    case 'payload-swap': {
      // Escalation attempt: a different subject under the original signature.
      const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      return `${header}.${b64json({ ...p, sub: 'admin', groups: ['admins'] })}.${signature}`;
    }
    default:
      throw new Error(`unknown garbage kind ${kind}`);
  }
}

const STRING_KINDS = ['random', 'truncated', 'alg-none', 'unknown-kid', 'payload-swap'];

/**
 * `count` garbage tokens: string-level tampering of `validSamples`, plus expired tokens, tokens forged with the
 * attacker's key under a real kid, and tokens of an unconfigured issuer.
 */
export async function mintGarbage(count, { issuers, attacker, validSamples, firstSubject }) {
  if (count <= 0) return [];
  const signedShare = Math.max(3, Math.floor(count / 2));
  const forgedIssuers = issuers.map((i) => ({ ...i, signing: { ...attacker.key, kid: i.signing.kid, alg: 'RS256', privateJwk: { ...attacker.key.privateJwk, kid: i.signing.kid } } }));
  const unknownIssuer = { id: 'x', iss: 'https://unconfigured.bench.example', signing: attacker.key };
  const third = Math.ceil(signedShare / 3);
  const signed = [
    ...(await mintTokens({ issuers, count: third, firstSubject, lifetimeSec: -3600 })), // expired an hour ago
    ...(await mintTokens({ issuers: forgedIssuers, count: third, firstSubject })),
    ...(await mintTokens({ issuers: [unknownIssuer], count: third, firstSubject })),
  ];
  const out = [];
  for (let i = 0; out.length < count; i++) {
    if (i % 2 === 0 && signed.length > 0) out.push(signed[(i / 2) % signed.length]);
    else out.push(tamper(validSamples[i % validSamples.length], STRING_KINDS[i % STRING_KINDS.length]));
  }
  return out;
}
