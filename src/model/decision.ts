/** Why a request was denied. Stable strings: they appear in deny bodies, logs and metrics labels. */
export const DENY_REASONS = [
  'malformed_request',
  'token_missing',
  'token_malformed',
  'token_invalid',
  'token_expired',
  'token_not_yet_valid',
  'token_too_large',
  'multiple_tokens',
  'issuer_unknown',
  'audience_mismatch',
  'claim_invalid',
  'algorithm_unsupported',
  'key_not_found',
  'signature_invalid',
  'jwks_unavailable',
  'denied_by_rule',
  'no_allow_rule_matched',
  'no_route',
  'internal_error',
] as const;

export type DenyReason = (typeof DENY_REASONS)[number];

/** A header to set on the upstream request (always overwriting a client-sent one). */
export interface HeaderToSet {
  readonly name: string;
  readonly value: string;
}

/** Step-by-step account of a decision, for `explain` and debug logs. Never holds a token. */
export interface TraceEntry {
  readonly step: 'request' | 'extract' | 'verify' | 'authorize' | 'ordered' | 'respond';
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export type Decision =
  | {
      readonly kind: 'allow';
      /** Headers to set upstream (claims, payload). */
      readonly headersToSet: readonly HeaderToSet[];
      /** Headers to remove upstream (token header, client copies of output headers). Never one we set. */
      readonly headersToRemove: readonly string[];
      /** Query parameters to remove (a query token when not forwarded). */
      readonly queryParametersToRemove: readonly string[];
      /** Request principal `iss/sub`, when there is one (logs). */
      readonly principal: string | undefined;
      /** The policy/rule that allowed, for logs. */
      readonly rule: string | undefined;
    }
  | {
      readonly kind: 'deny';
      readonly status: 400 | 401 | 403 | 404;
      readonly reason: DenyReason;
      /** Short human text (Envoy's local-reply wording where one exists). Never holds token contents. */
      readonly message: string;
      /** `error` value of `www-authenticate` for 401s (RFC 6750 §3.1), or undefined to omit the header. */
      readonly bearerError: 'invalid_token' | 'invalid_request' | undefined;
      /** Policy/rule that denied, for logs. */
      readonly rule: string | undefined;
      /** `realm` for `www-authenticate`: scheme://host + normalised path, never the query (security.md §0.10). */
      readonly realm: string | undefined;
    };

/** Builds a deny decision. */
export function deny(
  status: 400 | 401 | 403 | 404,
  reason: DenyReason,
  message: string,
  rule?: string,
  bearerError?: 'invalid_token' | 'invalid_request',
): Decision {
  return {
    kind: 'deny',
    status,
    reason,
    message,
    rule,
    bearerError: bearerError ?? (status === 401 ? 'invalid_token' : undefined),
    realm: undefined,
  };
}
