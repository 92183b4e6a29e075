import type { UsableKey } from './jwk.js';
import type { Predicate, StringMatcher } from './matcher.js';

/** Where a token may be found in a request. */
export type TokenLocation =
  /**
   * A header; `prefix` is searched for anywhere in the value, case-sensitively (Envoy extractor.cc `find`);
   * a value without it holds no token. Empty prefix ⇒ the whole value is the token.
   */
  | { readonly kind: 'header'; readonly name: string; readonly prefix: string }
  /** A query parameter (first value, URL-decoded). */
  | { readonly kind: 'query'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string };

/** Istio/Envoy default token locations: `Authorization: Bearer <t>` and `?access_token=` (Envoy extractor.cc). */
export const DEFAULT_LOCATIONS: readonly TokenLocation[] = Object.freeze([
  Object.freeze({ kind: 'header', name: 'authorization', prefix: 'Bearer ' }),
  Object.freeze({ kind: 'query', name: 'access_token' }),
]);

/** TLS settings for fetching a remote key set. */
export interface TlsSettings {
  /** false ⇒ certificate verification disabled (logged loudly). */
  readonly verify: boolean;
  /** PEM file with extra trusted CAs. */
  readonly caFile?: string;
}

/** Where a provider's keys come from. */
export type KeySource =
  /** Keys given in the configuration (Istio `jwks`, Airlock local JWKS file). */
  | { readonly kind: 'inline'; readonly keys: readonly UsableKey[]; readonly origin: string }
  /** A JWKS URI fetched and cached by the key store (`check/jwks.ts`). */
  | {
      readonly kind: 'remote';
      readonly uri: string;
      readonly timeoutMs: number;
      readonly connectTimeoutMs?: number;
      readonly refreshMs?: number;
      readonly tls?: TlsSettings;
    }
  /** OIDC discovery: `jwks_uri` read from `<issuer>/.well-known/openid-configuration`. */
  | { readonly kind: 'discovery'; readonly issuer: string; readonly timeoutMs: number };

/** How a token is verified for one issuer. */
export interface JwtProvider {
  /** Stable id for traces and cache keys: `file#doc path`. */
  readonly id: string;
  /** Required `iss`; empty string accepts any issuer (Envoy: empty issuer matches all). */
  readonly issuer: string;
  /** Audiences, sanitised (scheme and one trailing `/` removed). Empty ⇒ any. */
  readonly audiences: readonly string[];
  /** true ⇒ every listed audience must be in `aud` (Kyma); false ⇒ any one (Istio, Airlock). */
  readonly audiencesAll: boolean;
  readonly keys: KeySource;
  /** Clock skew tolerance for `exp`/`nbf`, seconds (Envoy default 60). */
  readonly clockSkewSec: number;
  /** `exp` is mandatory (Airlock `expirationRequired`). */
  readonly requireExpiration: boolean;
  /** Airlock `maxLifetime`: `exp − nbf` (else `exp − iat`) must not exceed this; missing claims ⇒ invalid. */
  readonly maxLifetimeSec: number | undefined;
  /** Airlock `subject.matcher`. */
  readonly subject: StringMatcher | undefined;
  /** Claims split on spaces for matching (Istio: `scope`, `permission` and `spaceDelimitedClaims`; Airlock: none). */
  readonly spaceDelimitedClaims: readonly string[];
  /** Forward the token's payload segment in this header. */
  readonly outputPayloadToHeader: string | undefined;
  /** Copy claims into headers. */
  readonly outputClaimToHeaders: readonly { readonly header: string; readonly claim: string }[];
  /** What to do when `aud` does not fit: Envoy answers 403 (semantics §0.1). */
  readonly audienceMismatchStatus: 401 | 403;
}

/**
 * Workload-wide authentication (Istio RequestAuthentication, Kyma): every token found in `locations`
 * must verify with a provider configured for that location, else 401; no token passes with no identity.
 */
export interface WorkloadAuthn {
  readonly id: string;
  /** Which requests this applies to. */
  readonly scope: Predicate;
  readonly provider: JwtProvider;
  readonly locations: readonly TokenLocation[];
  /** false ⇒ the token's header / query parameter is removed before the request goes upstream. */
  readonly forwardOriginalToken: boolean;
}

/** The action of a set-semantics authorization policy (Istio). */
export type RuleAction = 'ALLOW' | 'DENY' | 'AUDIT';

/** One rule: matches when its predicate holds. */
export interface Rule {
  /** Human name for traces: `policy.rules[2]`. */
  readonly name: string;
  readonly when: Predicate;
}

/** Istio AuthorizationPolicy semantics: any DENY match ⇒ 403; if any ALLOW applies, one must match. */
export interface AuthorizationPolicy {
  readonly id: string;
  /** `namespace/name` for logs. */
  readonly name: string;
  readonly scope: Predicate;
  readonly action: RuleAction;
  readonly rules: readonly Rule[];
  /** Status when this is the only kind of ALLOW policy applying and none matched (Kyma's unrouted 404). */
  readonly unmatchedStatus: 403 | 404;
  /** `istio.io/dry-run`: evaluated and traced, never enforced. */
  readonly dryRun: boolean;
}

/**
 * Per-policy authentication (Airlock JWT): the token is the first *present* source; it must verify with
 * one of `providers` (requireAny). Used only when an ordered policy entry asks for it.
 */
export interface Authenticator {
  readonly id: string;
  readonly name: string;
  readonly sources: readonly TokenLocation[];
  readonly providers: readonly JwtProvider[];
}

/** What an ordered policy entry does with a request it matches. */
export type Outcome =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny' }
  /** Require a token verified by `authenticator`; then `require` must hold on it (403 otherwise). */
  | { readonly kind: 'authenticate'; readonly authenticator: string; readonly require: Predicate };

/** One entry of an ordered policy. */
export interface OrderedEntry {
  readonly name: string;
  readonly when: Predicate;
  readonly outcome: Outcome;
}

/** First-match semantics (Airlock AccessControlPolicy): the first entry whose `when` holds decides. */
export interface OrderedPolicy {
  readonly id: string;
  readonly name: string;
  readonly scope: Predicate;
  readonly entries: readonly OrderedEntry[];
  /** Status when no entry matches. */
  readonly unmatchedStatus: 403 | 404;
}

/** One compiled, immutable configuration. A request reads `store.current()` once and uses it to the end. */
export interface PolicySnapshot {
  /** SHA-256 of the documents it was built from. */
  readonly digest: string;
  /** Monotonic counter of successful builds in this process. */
  readonly generation: number;
  readonly builtAt: Date;
  readonly workloadAuthn: readonly WorkloadAuthn[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly authenticators: ReadonlyMap<string, Authenticator>;
  readonly orderedPolicies: readonly OrderedPolicy[];
  /** Counts by document kind, for logs and /readyz. */
  readonly documentCount: number;
}

/** What one dialect contributes to a snapshot. */
export interface SnapshotFragment {
  readonly workloadAuthn: readonly WorkloadAuthn[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly authenticators: readonly Authenticator[];
  readonly orderedPolicies: readonly OrderedPolicy[];
}

/** Every provider referenced anywhere in a snapshot (for key prefetch). */
export function providersOf(snapshot: Pick<PolicySnapshot, 'workloadAuthn' | 'authenticators'>): JwtProvider[] {
  const out = snapshot.workloadAuthn.map((w) => w.provider);
  for (const a of snapshot.authenticators.values()) out.push(...a.providers);
  return out;
}
