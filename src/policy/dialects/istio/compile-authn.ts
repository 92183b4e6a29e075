import { checkJwks } from '../../../model/jwk.js';
import { type Predicate, allOf, anyOf, testString } from '../../../model/matcher.js';
import { DEFAULT_LOCATIONS, type JwtProvider, type KeySource, type TokenLocation, type WorkloadAuthn } from '../../../model/policy.js';
import type { ConfigIssue } from '../../config-issue.js';
import { parsePositiveDuration } from '../../duration.js';
import { issueAt, sanitizeAudience } from '../../matchers.js';
import type { RawDocument } from '../../read-documents.js';
import { labelScope, namespaceScope } from '../../scope.js';
import type { CompileContext } from '../types.js';
import type { JWTRule, ObjectMeta, PolicyTargetReference, RequestAuthentication } from './schema.js';

/** Scope of an Istio policy: namespace (root ⇒ all), then selector labels or target references. */
export function istioScope(
  meta: ObjectMeta,
  selector: { matchLabels?: Record<string, string> | undefined } | undefined,
  targetRefs: readonly PolicyTargetReference[],
  ctx: CompileContext,
): Predicate {
  const ns = namespaceScope(meta.namespace, ctx.options.rootNamespace);
  if (targetRefs.length > 0) {
    // Outside a mesh a Gateway/Service is named by the route: context_extensions[<kind in lower case>] = <name>.
    const refs = anyOf(
      targetRefs.map((r) => testString({ kind: 'contextExtension', name: r.kind.toLowerCase() }, { kind: 'exact', value: r.name, ignoreCase: false })),
    );
    return allOf([ns, refs]);
  }
  return allOf([ns, labelScope(selector?.matchLabels)]);
}

/** Compiles one RequestAuthentication into one WorkloadAuthn per jwtRule (all applicable rules are merged at check time). */
export function compileRequestAuthentication(doc: RawDocument, ra: RequestAuthentication, ctx: CompileContext, issues: ConfigIssue[]): WorkloadAuthn[] {
  const spec = ra.spec;
  const targetRefs = [...(spec.targetRefs ?? []), ...(spec.targetRef === undefined ? [] : [spec.targetRef])];
  if (spec.selector !== undefined && targetRefs.length > 0) {
    issues.push(issueAt(doc, ['spec'], 'only one of selector or targetRefs can be set'));
  }
  const scope = istioScope(ra.metadata, spec.selector, targetRefs, ctx);
  return (spec.jwtRules ?? []).flatMap((rule, i) => {
    const path = ['spec', 'jwtRules', i];
    const provider = compileProvider(doc, rule, path, ctx, issues);
    if (provider === undefined) return [];
    return [
      Object.freeze({
        id: provider.id,
        scope,
        provider,
        locations: locationsOf(rule),
        forwardOriginalToken: rule.forwardOriginalToken ?? false,
      }),
    ];
  });
}

function compileProvider(doc: RawDocument, rule: JWTRule, path: (string | number)[], ctx: CompileContext, issues: ConfigIssue[]): JwtProvider | undefined {
  const before = issues.length;
  const issuer = rule.issuer;
  // validation.go validateJwtRule: an empty issuer is allowed only with a jwksUri.
  if (issuer === '' && rule.jwksUri === undefined) issues.push(issueAt(doc, [...path, 'issuer'], 'Required (may only be empty when jwksUri is set)'));
  if (rule.jwks !== undefined && rule.jwksUri !== undefined) issues.push(issueAt(doc, path, 'only one of jwks or jwksUri can be set'));
  let timeoutMs = ctx.options.defaultJwksTimeoutMs;
  if (rule.timeout !== undefined) {
    const t = parsePositiveDuration(rule.timeout);
    if (typeof t === 'string') issues.push(issueAt(doc, [...path, 'timeout'], t));
    else timeoutMs = t;
  }
  let keys: KeySource;
  if (rule.jwks !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rule.jwks);
    } catch {
      issues.push(issueAt(doc, [...path, 'jwks'], 'jwks is not valid JSON'));
    }
    const checked = checkJwks(parsed, false);
    // Istio warnPrivateJwksKeys only warns; we also never log the key material itself.
    for (const w of checked.warnings) issues.push(issueAt(doc, [...path, 'jwks'], w, 'warning'));
    if (parsed !== undefined && checked.error !== undefined) issues.push(issueAt(doc, [...path, 'jwks'], checked.error));
    keys = { kind: 'inline', keys: Object.freeze(checked.keys), origin: `${doc.file}#${doc.index}` };
  } else if (rule.jwksUri !== undefined) {
    if (rule.jwksUri.startsWith('http://')) issues.push(issueAt(doc, [...path, 'jwksUri'], 'keys fetched over plain http can be replaced in transit', 'warning'));
    keys = { kind: 'remote', uri: rule.jwksUri, timeoutMs };
  } else {
    // Neither: OIDC discovery from the issuer (istio jwks_resolver.go resolveJwksURIUsingOpenID).
    if (!/^https?:\/\//.test(issuer)) issues.push(issueAt(doc, [...path, 'issuer'], 'without jwks or jwksUri the issuer must be an http(s) URL for OIDC discovery'));
    keys = { kind: 'discovery', issuer, timeoutMs };
  }
  if ((rule.fromHeaders ?? []).some((h) => h.name.toLowerCase() === 'authorization' && (h.prefix ?? '') === '')) {
    issues.push(issueAt(doc, [...path, 'fromHeaders'], 'Authorization without a prefix takes the whole value ("Bearer x") as the token; did you mean prefix "Bearer "?', 'warning'));
  }
  if (issues.slice(before).some((i) => i.severity === 'error')) return undefined;
  return Object.freeze({
    id: `${doc.file}#${doc.index} spec.jwtRules[${String(path[2])}]`,
    issuer,
    audiences: Object.freeze((rule.audiences ?? []).map(sanitizeAudience)),
    audiencesAll: false,
    keys,
    clockSkewSec: 60, // Envoy clock_skew_seconds default; Istio does not set it
    requireExpiration: ctx.options.requireExpiration,
    maxLifetimeSec: undefined,
    subject: undefined,
    // policy_applier.go: `scope` and `permission` are always split on spaces for matching, plus the listed ones.
    spaceDelimitedClaims: Object.freeze([...new Set(['scope', 'permission', ...(rule.spaceDelimitedClaims ?? [])])]),
    outputPayloadToHeader: rule.outputPayloadToHeader?.toLowerCase(),
    outputClaimToHeaders: Object.freeze((rule.outputClaimToHeaders ?? []).map((o) => ({ header: o.header.toLowerCase(), claim: o.claim }))),
    audienceMismatchStatus: 403,
  });
}

/** Token locations of a rule; Envoy's defaults only when none of fromHeaders/fromParams/fromCookies is set. */
function locationsOf(rule: JWTRule): readonly TokenLocation[] {
  const out: TokenLocation[] = [];
  for (const h of rule.fromHeaders ?? []) out.push({ kind: 'header', name: h.name.toLowerCase(), prefix: h.prefix ?? '' });
  for (const q of rule.fromParams ?? []) out.push({ kind: 'query', name: q });
  for (const c of rule.fromCookies ?? []) out.push({ kind: 'cookie', name: c });
  return out.length === 0 ? DEFAULT_LOCATIONS : Object.freeze(out);
}
