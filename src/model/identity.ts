/** A verified token: who it names and what it claims. Claims are read with own-property lookups only (security.md §1.3). */
export interface Identity {
  /** `iss` claim. */
  readonly issuer: string;
  /** `sub` claim, or undefined when absent or empty. */
  readonly subject: string | undefined;
  /** RFC 7519 §4.1.3: `aud` as a list (a string becomes a one-element list). */
  readonly audiences: readonly string[];
  /** The whole claim set as JSON.parse gave it (`__proto__` stays an own property; never merged into other objects). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** Claims as matchers see them: space-delimited claims (`scope`, `permission`, …) split into lists. */
  readonly matchClaims: Readonly<Record<string, unknown>>;
  /** The payload segment of the token, verbatim (base64url, unpadded), for `outputPayloadToHeader`. */
  readonly payloadSegment: string;
  /** Id of the JwtProvider that verified the token. */
  readonly providerId: string;
  /** Seconds since epoch after which the token stops being acceptable (exp + skew), or Infinity. */
  readonly notAfter: number;
  /** Seconds since epoch before which the token is not acceptable (nbf − skew), or -Infinity. */
  readonly notBefore: number;
}

/** The request principal `iss/sub` as Istio documents it, or undefined without a non-empty `sub`. */
export function requestPrincipalOf(identity: Identity | undefined): string | undefined {
  if (identity?.subject === undefined) return undefined;
  return `${identity.issuer}/${identity.subject}`;
}
