import type { Decision, HeaderToSet, TraceEntry } from '../model/decision.js';
import { deny } from '../model/decision.js';
import { type Identity, requestPrincipalOf } from '../model/identity.js';
import type { JwtProvider, PolicySnapshot, TokenLocation, WorkloadAuthn } from '../model/policy.js';
import type { PreparedRequest, RequestAttributes } from '../model/request.js';
import { claimHeaders, outputHeaderNames } from './claim-headers.js';
import { type EvalContext, evaluatePredicate } from './evaluate-predicate.js';
import { evaluateAuthorization } from './evaluate-policy.js';
import { evaluateOrdered } from './evaluate-ordered.js';
import { locationKey, tokensAt } from './extract-token.js';
import type { KeyStore } from './jwks.js';
import { type PrepareOptions, prepareRequest, realmOf } from './prepare-request.js';
import type { TokenCache } from './token-cache.js';
import { type VerifyDeps, verifyToken } from './verify-token.js';

/** Everything a check needs besides the snapshot and the request. */
export interface CheckDeps {
  readonly keys: KeyStore;
  readonly cache: TokenCache | undefined;
  /** Milliseconds since epoch (tests and `explain --now` pin it). */
  readonly now: () => number;
  readonly maxTokenBytes: number;
  readonly prepare: PrepareOptions;
  /** [decision D5] `authorization: bearer <t>` (wrong case) is 401 instead of Istio's "no token". */
  readonly strictBearer?: boolean;
}

/**
 * Decides one request against one snapshot: prepare → extract → verify → authorize (set semantics) →
 * ordered policies → allow with headers. Denials are values; this never throws on request data.
 */
export async function check(
  snapshot: PolicySnapshot,
  attributes: RequestAttributes,
  deps: CheckDeps,
  deadline: number,
  trace?: TraceEntry[],
): Promise<Decision> {
  const prepared = prepareRequest(attributes, deps.prepare);
  if ('kind' in prepared) {
    trace?.push({ step: 'request', message: 'not a valid HTTP request', data: { reason: prepared.kind === 'deny' ? prepared.message : '' } });
    return prepared;
  }
  trace?.push({ step: 'request', message: 'request prepared', data: { method: attributes.method, path: prepared.path, host: attributes.host, namespace: prepared.namespace } });
  const decision = await decide(snapshot, prepared, deps, deadline, trace);
  return decision.kind === 'deny' ? { ...decision, realm: realmOf(prepared) } : decision;
}

async function decide(snapshot: PolicySnapshot, req: PreparedRequest, deps: CheckDeps, deadline: number, trace: TraceEntry[] | undefined): Promise<Decision> {
  const verifyDeps: VerifyDeps = { keys: deps.keys, cache: deps.cache, now: deps.now, deadline, maxTokenBytes: deps.maxTokenBytes };
  const scopeCtx: EvalContext = { request: req, identity: undefined };
  const authns = applicableAuthns(snapshot, scopeCtx);
  const headersToSet: HeaderToSet[] = [];
  const headersToRemove = new Set<string>();
  const queryToRemove = new Set<string>();
  let identity: Identity | undefined;

  if (authns.length > 0) {
    const authn = await authenticateWorkload(authns, req, verifyDeps, deps.strictBearer === true, trace);
    if ('kind' in authn) return authn;
    identity = authn.identity;
    if (authn.provider !== undefined && authn.via !== undefined) {
      headersToSet.push(...claimHeaders(authn.provider, authn.via.identity));
      if (!authn.via.forward) {
        // forwardOriginalToken: false ⇒ the token's header / query parameter never reaches the upstream.
        for (const loc of authn.via.locations) {
          if (loc.kind === 'header') headersToRemove.add(loc.name);
          else if (loc.kind === 'query') queryToRemove.add(loc.name);
        }
      }
    }
    // A client can never smuggle an output header: strip every one we do not set ourselves.
    for (const w of authns) for (const name of outputHeaderNames(w.provider)) if (req.attributes.headers.has(name)) headersToRemove.add(name);
  }

  const ctx: EvalContext = { request: req, identity };
  const authz = evaluateAuthorization(snapshot.authorizationPolicies, ctx, trace);
  if (!authz.allowed) return authz.decision;
  let rule = authz.rule;
  if (snapshot.orderedPolicies.length > 0) {
    const ordered = await evaluateOrdered(snapshot, req, verifyDeps, trace);
    if (ordered.kind === 'deny') return ordered;
    rule ??= ordered.rule;
  }
  for (const h of headersToSet) headersToRemove.delete(h.name.toLowerCase()); // never remove what we set
  trace?.push({ step: 'respond', message: 'allowed', data: { rule: rule ?? null } });
  return {
    kind: 'allow',
    headersToSet,
    headersToRemove: [...headersToRemove],
    queryParametersToRemove: [...queryToRemove],
    principal: requestPrincipalOf(identity),
    rule,
  };
}

type LocationGroups = ReadonlyMap<string, { readonly location: TokenLocation; readonly authns: WorkloadAuthn[] }>;
const groupsByAuthns = new WeakMap<readonly WorkloadAuthn[], LocationGroups>();
const subsetsBySnapshot = new WeakMap<PolicySnapshot, Map<string, readonly WorkloadAuthn[]>>();

/**
 * The RequestAuthentication rules that apply to a request. The same subsets recur (usually: all of them), so each
 * distinct subset is one memoised array per snapshot and its location grouping is computed once.
 */
function applicableAuthns(snapshot: PolicySnapshot, ctx: EvalContext): readonly WorkloadAuthn[] {
  const all = snapshot.workloadAuthn;
  let key = '';
  for (let i = 0; i < all.length; i++) {
    const w = all[i];
    key += w !== undefined && evaluatePredicate(w.scope, ctx) ? '1' : '0';
  }
  if (!key.includes('0')) return all;
  let subsets = subsetsBySnapshot.get(snapshot);
  if (subsets === undefined) subsetsBySnapshot.set(snapshot, (subsets = new Map()));
  let subset = subsets.get(key);
  if (subset === undefined) {
    subset = Object.freeze(all.filter((_w, i) => key[i] === '1'));
    if (subsets.size < 1024) subsets.set(key, subset);
  }
  return subset;
}

const providerLists = new WeakMap<readonly WorkloadAuthn[], readonly JwtProvider[]>();

function providersOfAuthns(authns: readonly WorkloadAuthn[]): readonly JwtProvider[] {
  let list = providerLists.get(authns);
  if (list === undefined) {
    list = authns.map((w) => w.provider);
    providerLists.set(authns, list);
  }
  return list;
}

/** Locations of the given rules, each with the rules that read it (Envoy checks the issuer per location). */
function locationsOf(authns: readonly WorkloadAuthn[]): LocationGroups {
  let groups = groupsByAuthns.get(authns);
  if (groups !== undefined) return groups;
  const byLocation = new Map<string, { location: TokenLocation; authns: WorkloadAuthn[] }>();
  for (const w of authns) {
    for (const loc of w.locations) {
      const key = locationKey(loc);
      const entry = byLocation.get(key);
      if (entry === undefined) byLocation.set(key, { location: loc, authns: [w] });
      else entry.authns.push(w);
    }
  }
  groups = byLocation;
  groupsByAuthns.set(authns, groups);
  return groups;
}

interface WorkloadIdentity {
  readonly identity: Identity | undefined;
  readonly provider: JwtProvider | undefined;
  readonly via: { readonly identity: Identity; readonly forward: boolean; readonly locations: TokenLocation[] } | undefined;
}

/**
 * Istio RequestAuthentication semantics: tokens are looked for at every location of every applicable rule; each
 * must verify with a provider configured for its location. No token ⇒ no identity, allowed on to authorization.
 * [decision D1] byte-identical copies count as one token; two different tokens ⇒ 401 invalid_request.
 */
async function authenticateWorkload(
  authns: readonly WorkloadAuthn[],
  req: PreparedRequest,
  deps: VerifyDeps,
  strictBearer: boolean,
  trace: TraceEntry[] | undefined,
): Promise<WorkloadIdentity | Decision> {
  if (req.isCorsPreflight) {
    // Istio sets bypass_cors_preflight: preflights skip JWT verification entirely.
    trace?.push({ step: 'extract', message: 'CORS preflight: JWT verification skipped' });
    return { identity: undefined, provider: undefined, via: undefined };
  }
  const byLocation = locationsOf(authns);
  if (strictBearer && hasMiscasedBearer(req, byLocation.values())) {
    trace?.push({ step: 'extract', message: 'authorization scheme is not written "Bearer" (--strict-bearer)' });
    return deny(401, 'token_malformed', 'authorization scheme must be written "Bearer"', undefined, 'invalid_request');
  }
  let token: string | undefined;
  const found: { readonly location: TokenLocation; readonly authns: WorkloadAuthn[] }[] = [];
  for (const entry of byLocation.values()) {
    for (const t of tokensAt(req, entry.location)) {
      if (token !== undefined && t !== token) {
        trace?.push({ step: 'extract', message: 'more than one distinct token' });
        return deny(401, 'multiple_tokens', 'more than one token in the request', undefined, 'invalid_request');
      }
      token = t;
      if (!found.includes(entry)) found.push(entry);
    }
  }
  if (token === undefined) {
    trace?.push({ step: 'extract', message: 'no token found', data: { locations: [...byLocation.keys()] } });
    return { identity: undefined, provider: undefined, via: undefined };
  }
  trace?.push({ step: 'extract', message: 'token found', data: { locations: found.map((f) => locationKey(f.location)) } });
  let candidates: readonly WorkloadAuthn[];
  if (found.length === 1 && found[0] !== undefined) candidates = found[0].authns;
  else {
    const merged: WorkloadAuthn[] = [];
    for (const f of found) for (const w of f.authns) if (!merged.includes(w)) merged.push(w);
    candidates = merged;
  }
  const result = await verifyToken(token, providersOfAuthns(candidates), deps);
  if (!result.ok) {
    trace?.push({ step: 'verify', message: result.message, data: { reason: result.reason } });
    // Audience mismatch is 403 but still carries error="invalid_token" (Envoy filter.cc).
    return deny(result.status, result.reason, result.message, undefined, 'invalid_token');
  }
  const w = candidates.find((c) => c.provider === result.provider);
  trace?.push({ step: 'verify', message: 'token verified', data: { provider: result.provider.id, issuer: result.identity.issuer, subject: result.identity.subject ?? null, cached: result.cached } });
  return {
    identity: result.identity,
    provider: result.provider,
    via: { identity: result.identity, forward: w?.forwardOriginalToken ?? true, locations: found.map((f) => f.location) },
  };
}

/**
 * RFC 9110 §11.1 makes the scheme case-insensitive, Envoy's prefix match does not: `bearer <t>` is "no token" for
 * Istio, yet the upstream still receives the unverified token. `--strict-bearer` refuses it instead.
 */
function hasMiscasedBearer(req: PreparedRequest, locations: Iterable<{ location: TokenLocation }>): boolean {
  for (const { location } of locations) {
    if (location.kind !== 'header' || location.prefix !== 'Bearer ') continue;
    for (const v of req.attributes.headers.get(location.name) ?? []) {
      if (!v.includes('Bearer ') && /^\s*bearer\s/i.test(v)) return true;
    }
  }
  return false;
}
