import { NEVER, type Predicate, type StringMatcher, allOf, anyOf, not, testString } from '../../../model/matcher.js';
import {
  type AuthorizationPolicy,
  DEFAULT_LOCATIONS,
  type JwtProvider,
  type Rule as ModelRule,
  type TokenLocation,
  type WorkloadAuthn,
} from '../../../model/policy.js';
import type { ConfigIssue } from '../../config-issue.js';
import { issueAt } from '../../matchers.js';
import type { RawDocument } from '../../read-documents.js';
import type { CompileOptions } from '../types.js';
import { isCatchAll, pathPredicate } from './paths.js';
import type { APIRule, JwtAuthentication, JwtAuthorization, Rule } from './schema.js';
import { paramsOf } from './validate.js';

/** What one APIRule compiles to. */
export interface CompiledApiRule {
  readonly workloadAuthn: WorkloadAuthn[];
  readonly authorizationPolicies: AuthorizationPolicy[];
  readonly issues: ConfigIssue[];
}

/** Kyma creator.go defaultScopeKeys: required scopes may sit in any one of these claims. */
export const SCOPE_CLAIMS = ['scp', 'scope', 'scopes'] as const;

/**
 * Compiles one validated APIRule the way Kyma's controller translates it to Istio (semantics §4.3):
 * a RequestAuthentication per jwt rule and ALLOW AuthorizationPolicies whose generated notPaths make the
 * first matching rule win. Expects `validateApiRule` to have passed.
 */
export function compileApiRule(doc: RawDocument, apiRule: APIRule, options: CompileOptions): CompiledApiRule {
  const issues: ConfigIssue[] = [];
  const rules = apiRule.spec.rules;
  const name = apiRule.metadata.namespace === undefined ? apiRule.metadata.name : `${apiRule.metadata.namespace}/${apiRule.metadata.name}`;
  const docId = `${doc.file}#${doc.index}`;

  // Paths and methods per rule, compiled once. A path Envoy would reject is an issue and never matches.
  const paths = rules.map((rule, i): Predicate => {
    const path = pathPredicate(rule.path);
    if (typeof path !== 'string') return path;
    issues.push(issueAt(doc, ['spec', 'rules', i, 'path'], path));
    return NEVER;
  });
  const routes = rules.map((rule, i) => allOf([methodsPredicate(rule), paths[i] ?? NEVER]));

  // Host scoping only (see docs/kyma.md): outside a mesh the namespace of a request is usually unknown, and an
  // ALLOW policy whose scope does not match does not apply — so narrowing the scope by namespace would let
  // requests without namespace information through. The host is always known.
  const host = hostPredicate(apiRule.spec.hosts[0] ?? '');
  // A (path, method) no rule routes never reaches the workload in Kyma (the gateway answers 404).
  const routed = anyOf(routes);

  const workloadAuthn: WorkloadAuthn[] = [];
  const modelRules: ModelRule[] = [];
  rules.forEach((rule, i) => {
    const at = `spec.rules[${i}]`;
    const to = allOf([routes[i] ?? NEVER, not(anyOf(notPathsOf(rules, i, paths)))]);
    if (rule.jwt === undefined) {
      modelRules.push({ name: `${name} ${at}`, when: to });
      return;
    }
    const auths = rule.jwt.authentications ?? [];
    auths.forEach((auth, k) => {
      const id = `${docId} ${at}.jwt.authentications[${k}]`;
      workloadAuthn.push({
        id,
        scope: allOf([host, routed]),
        provider: providerOf(id, auth, options),
        locations: locationsOf(auth),
        // Kyma forces forwardOriginalToken: true in every RequestAuthentication it writes.
        forwardOriginalToken: true,
      });
    });
    // requestPrincipals: ["<issuer>/*"]: issuer exact, a non-empty `sub` (semantics §1.5).
    const from = anyOf(auths.map((a): Predicate => ({ kind: 'requestPrincipal', issuer: exact(a.issuer), subject: { kind: 'nonEmpty' } })));
    const authorizations: readonly (JwtAuthorization | undefined)[] = rule.jwt.authorizations ?? [undefined];
    authorizations.forEach((authz, k) => {
      const where = authz === undefined ? at : `${at}.jwt.authorizations[${k}]`;
      for (const variant of conditionsOf(authz)) {
        modelRules.push({
          name: `${name} ${where}${variant.claim === undefined ? '' : ` (${variant.claim})`}`,
          when: allOf([to, from, ...variant.conditions]),
        });
      }
    });
  });

  const authorizationPolicies: AuthorizationPolicy[] = [
    { id: docId, name, scope: allOf([host, routed]), action: 'ALLOW', rules: modelRules, unmatchedStatus: 403, dryRun: false },
    // Requests on the host that no rule routes: an ALLOW policy with no rules denies them all, with Kyma's status.
    {
      id: `${docId} unrouted`,
      name: `${name} (no rule)`,
      scope: allOf([host, not(routed)]),
      action: 'ALLOW',
      rules: [],
      unmatchedStatus: options.kymaUnmatchedStatus,
      dryRun: false,
    },
  ];
  return { workloadAuthn, authorizationPolicies, issues };
}

/**
 * Kyma generateNotPaths: the paths of earlier rules sharing at least one method, except the catch-alls `/*` and
 * `/{**}` — so a request matching an earlier rule's path is never allowed by a later rule (first match wins).
 * The exclusion applies to every method of the later rule, as in Kyma (docs: significance of rule order).
 */
function notPathsOf(rules: readonly Rule[], i: number, paths: readonly Predicate[]): Predicate[] {
  const current = rules[i];
  if (current === undefined) return [];
  const out: Predicate[] = [];
  for (let j = 0; j < i; j++) {
    const earlier = rules[j];
    const path = paths[j];
    if (earlier === undefined || path === undefined) continue;
    if (isCatchAll(earlier.path) || !earlier.methods.some((m) => current.methods.includes(m))) continue;
    out.push(path);
  }
  return out;
}

/** The `when` conditions of one authorizations[] entry: one variant per scope claim, or one without scopes. */
function conditionsOf(authz: JwtAuthorization | undefined): { claim: string | undefined; conditions: Predicate[] }[] {
  // request.auth.claims[aud]: one condition per audience, so `aud` must hold all of them.
  const audiences = (authz?.audiences ?? []).map((a) => claimIs('aud', a));
  const scopes = authz?.requiredScopes ?? [];
  if (scopes.length === 0) return [{ claim: undefined, conditions: audiences }];
  // One AP rule per scope claim, all required scopes AND-ed inside that claim (creator.go).
  return SCOPE_CLAIMS.map((claim) => ({ claim, conditions: [...scopes.map((s) => claimIs(claim, s)), ...audiences] }));
}

function claimIs(claim: string, value: string): Predicate {
  // Istio claim conditions match strings and lists of strings only; `scope` arrives split on spaces.
  return testString({ kind: 'claim', path: [claim], coercion: 'strings' }, exact(value));
}

function methodsPredicate(rule: Rule): Predicate {
  // Istio `methods`: exact and case-sensitive.
  return anyOf(rule.methods.map((m) => testString({ kind: 'method' }, exact(m))));
}

/** `api.example.com` or `*.example.com`, ASCII case-insensitive, port ignored. */
export function hostPredicate(host: string): Predicate {
  const lower = host.toLowerCase();
  const matcher: StringMatcher = lower.startsWith('*.')
    ? { kind: 'suffix', value: lower.slice(1), ignoreCase: true }
    : { kind: 'exact', value: lower, ignoreCase: true };
  return testString({ kind: 'hostname' }, matcher);
}

function exact(value: string): StringMatcher {
  return { kind: 'exact', value, ignoreCase: false };
}

/** Envoy / Istio default locations unless fromHeaders or fromParams is set (semantics §0.5). */
export function locationsOf(auth: JwtAuthentication): readonly TokenLocation[] {
  const headers = (auth.fromHeaders ?? []).map((h): TokenLocation => ({
    kind: 'header',
    name: h.name.toLowerCase(),
    // Kyma copies the prefix verbatim (builders/istio.go): no prefix ⇒ the whole header value is the token.
    prefix: h.prefix ?? '',
  }));
  const params = (paramsOf(auth) ?? []).map((p): TokenLocation => ({ kind: 'query', name: p }));
  const all = [...headers, ...params];
  return all.length === 0 ? DEFAULT_LOCATIONS : all;
}

function providerOf(id: string, auth: JwtAuthentication, options: CompileOptions): JwtProvider {
  return {
    id,
    issuer: auth.issuer,
    // Kyma's RequestAuthentication sets no audiences; they are checked by the AuthorizationPolicy (all-of).
    audiences: [],
    audiencesAll: true,
    keys: { kind: 'remote', uri: auth.jwksUri, timeoutMs: options.defaultJwksTimeoutMs },
    clockSkewSec: 60,
    requireExpiration: options.requireExpiration,
    maxLifetimeSec: undefined,
    subject: undefined,
    spaceDelimitedClaims: ['scope', 'permission'], // Kyma runs on Istio, which always splits these
    outputPayloadToHeader: undefined,
    outputClaimToHeaders: [],
    audienceMismatchStatus: 403,
  };
}
