import type { StringMatcher } from '../../../model/matcher.js';
import type { Authenticator, JwtProvider, KeySource, TokenLocation } from '../../../model/policy.js';
import type { ConfigIssue } from '../../config-issue.js';
import { asciiLower, issueAt, sanitizeAudience } from '../../matchers.js';
import { parseDuration } from '../../duration.js';
import type { ExtractionSource, JWT } from './jwt-schema.js';
import { type Parsed, refKey } from './parsed.js';
import { toStringMatcher } from './string-matcher.js';

/** JWKS lookup by `namespace/name`: a key source, `'failed'` (already reported) or `'missing'`. */
export type KeyLookup = (key: string) => KeySource | 'failed' | 'missing';

/** Airlock: with no `extractionSources`, the token is taken from `Authorization: Bearer …` only (jwts CRD). */
const BEARER: TokenLocation = Object.freeze({ kind: 'header', name: 'authorization', prefix: 'Bearer ' });

/** The snapshot-wide id of the authenticator built from a JWT document. */
export function authenticatorId(jwtKey: string): string {
  return `airlock:jwt/${jwtKey}`;
}

/**
 * Compiles a `JWT` into one Authenticator: its sources in list order (the first *present* one is used) and one
 * JwtProvider per `requireAny` entry (a token must satisfy one of them). Undefined (with issues) when unusable.
 */
export function compileJwt(p: Parsed<JWT>, keysFor: KeyLookup, issues: ConfigIssue[]): Authenticator | undefined {
  const spec = p.value.spec;
  let ok = true;
  const seconds = (field: 'clockSkewTolerance' | 'maxLifetime', text: string): number => {
    const ms = parseDuration(text);
    if (typeof ms === 'number') return ms / 1000;
    issues.push(issueAt(p.doc, ['spec', field], ms));
    ok = false;
    return 0;
  };
  // Tolerance applied to exp and nbf: the CRD's default is 60 s, as Envoy's.
  const clockSkewSec = seconds('clockSkewTolerance', spec.clockSkewTolerance);
  const maxLifetimeSec = spec.maxLifetime === undefined ? undefined : seconds('maxLifetime', spec.maxLifetime);
  if (maxLifetimeSec === 0) {
    issues.push(issueAt(p.doc, ['spec', 'maxLifetime'], 'maxLifetime must be greater than 0'));
    ok = false;
  }
  const sources = (spec.extractionSources ?? [{ bearerToken: {} }]).map(toLocation);
  const providers: JwtProvider[] = [];
  spec.requireAny.forEach((r, i) => {
    const at = ['spec', 'requireAny', i];
    const jwksKey = refKey(p.namespace, r.jwksRef.name);
    const keys = keysFor(jwksKey);
    if (keys === 'missing') {
      issues.push(issueAt(p.doc, [...at, 'jwksRef', 'name'], `JWKS "${jwksKey}" not found`));
      ok = false;
      return;
    }
    if (keys === 'failed') {
      ok = false;
      return;
    }
    let subject: StringMatcher | undefined;
    if (r.subject !== undefined) {
      const m = toStringMatcher(r.subject.matcher);
      if (typeof m === 'string') {
        issues.push(issueAt(p.doc, [...at, 'subject', 'matcher', 'regex'], m));
        ok = false;
        return;
      }
      subject = m;
    }
    providers.push({
      id: `${p.doc.file}#${p.doc.index} spec.requireAny[${i}]`,
      // No issuer ⇒ any issuer (Envoy: an empty issuer matches every token).
      issuer: r.issuer ?? '',
      audiences: (r.audiences ?? []).map(sanitizeAudience),
      audiencesAll: false,
      keys,
      clockSkewSec,
      requireExpiration: spec.expirationRequired,
      maxLifetimeSec,
      subject,
      spaceDelimitedClaims: [],
      outputPayloadToHeader: undefined,
      outputClaimToHeaders: [],
      // A token that fits no requireAny entry is not a valid token for this JWT: 401, like a bad signature.
      audienceMismatchStatus: 401,
    });
  });
  if (!ok) return undefined;
  return { id: authenticatorId(p.key), name: `JWT ${p.key}`, sources, providers };
}

function toLocation(s: ExtractionSource): TokenLocation {
  if (s.header !== undefined) return { kind: 'header', name: asciiLower(s.header.name), prefix: '' };
  if (s.queryParameter !== undefined) return { kind: 'query', name: s.queryParameter.name };
  if (s.cookie !== undefined) return { kind: 'cookie', name: s.cookie.name };
  return BEARER;
}
