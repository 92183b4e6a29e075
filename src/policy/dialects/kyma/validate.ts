import type { ConfigIssue } from '../../config-issue.js';
import { issueAt } from '../../matchers.js';
import type { RawDocument } from '../../read-documents.js';
import { checkPathOperators, pathCovers } from './paths.js';
import type { APIRule, JwtAuthentication, JwtConfig, Rule } from './schema.js';

/** The `fromParams` list of an authentication, whichever spelling the document used. */
export function paramsOf(auth: JwtAuthentication): readonly string[] | undefined {
  return auth.fromParams ?? auth.fromParameters;
}

/**
 * Kyma's own APIRule validation (api-gateway internal/validation/v2alpha1/{rules,jwt}.go, CRD CEL rules;
 * semantics §4.2), plus what this service cannot do. Every problem is an issue at its field path.
 */
export function validateApiRule(doc: RawDocument, apiRule: APIRule): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const spec = apiRule.spec;
  const host = spec.hosts[0] ?? '';
  if (!host.includes('.')) {
    issues.push(
      issueAt(doc, ['spec', 'hosts', 0], 'a short host name needs the Gateway\'s domain, which is not known here: write the full host name'),
    );
  }
  spec.rules.forEach((rule, i) => {
    const at: PropertyKey[] = ['spec', 'rules', i];
    issues.push(...validateAccessStrategy(doc, rule, at));
    if (spec.service === undefined && rule.service === undefined) {
      issues.push(issueAt(doc, [...at, 'service'], 'the rule must define a service, because no service is defined on spec level'));
    }
    const operators = checkPathOperators(rule.path);
    if (operators !== undefined) issues.push(issueAt(doc, [...at, 'path'], operators));
    if (rule.jwt !== undefined) issues.push(...validateJwt(doc, rule.jwt, [...at, 'jwt']));
  });
  issues.push(...validatePathOrder(doc, spec.rules));
  issues.push(...validateSameIssuerSameLocations(doc, spec.rules));
  return issues;
}

function validateAccessStrategy(doc: RawDocument, rule: Rule, at: PropertyKey[]): ConfigIssue[] {
  // CRD CEL: exactly one of `noAuth: true`, `jwt`, `extAuth`.
  const set = (rule.noAuth === true ? 1 : 0) + (rule.jwt !== undefined ? 1 : 0) + (rule.extAuth !== undefined ? 1 : 0);
  const issues: ConfigIssue[] = [];
  if (set !== 1) issues.push(issueAt(doc, at, 'exactly one of the following fields must be set: noAuth (true), jwt, extAuth'));
  if (rule.extAuth !== undefined) {
    // Fail closed: a rule delegating to another authorizer cannot be honoured, so the document is rejected.
    issues.push(
      issueAt(
        doc,
        [...at, 'extAuth'],
        'extAuth is not supported here: this service is itself the external authorizer; use jwt or noAuth, or chain the other authorizer in Envoy',
      ),
    );
  }
  return issues;
}

function validateJwt(doc: RawDocument, jwt: JwtConfig, at: PropertyKey[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const auths = jwt.authentications ?? [];
  if (auths.length === 0) issues.push(issueAt(doc, [...at, 'authentications'], 'a JWT config must have at least one authentication'));
  let hasHeaders = false;
  let hasParams = false;
  auths.forEach((auth, k) => {
    const a: PropertyKey[] = [...at, 'authentications', k];
    const issuer = issuerProblem(auth.issuer);
    if (issuer !== undefined) issues.push(issueAt(doc, [...a, 'issuer'], issuer));
    if (!isHttpUrl(auth.jwksUri)) issues.push(issueAt(doc, [...a, 'jwksUri'], 'must be an http or https URL'));
    if (auth.fromParams !== undefined && auth.fromParameters !== undefined) {
      issues.push(issueAt(doc, [...a, 'fromParameters'], 'set fromParams or fromParameters, not both'));
    } else if (auth.fromParameters !== undefined) {
      issues.push(
        issueAt(
          doc,
          [...a, 'fromParameters'],
          'fromParameters is the spelling of Kyma\'s guide, not a CRD field (Kubernetes would drop it silently, so Kyma would not read this parameter); read here as fromParams',
          'warning',
        ),
      );
    }
    const headers = auth.fromHeaders ?? [];
    const params = paramsOf(auth) ?? [];
    const paramsField = auth.fromParams !== undefined ? 'fromParams' : 'fromParameters';
    // Kyma jwt.go hasInvalidAuthentications: fromHeaders and fromParams never together in one rule, not even in
    // one authentication. The guide's `fromParameters` next to fromHeaders (seed 000) is read as both locations.
    const mixed = 'mixture of multiple fromHeaders and fromParams is not supported';
    if (headers.length > 0 && hasParams) issues.push(issueAt(doc, [...a, 'fromHeaders'], mixed));
    if (params.length > 0 && (hasHeaders || (headers.length > 0 && paramsField === 'fromParams'))) {
      issues.push(issueAt(doc, [...a, paramsField], mixed));
    }
    hasHeaders ||= headers.length > 0;
    hasParams ||= params.length > 0;
    if (headers.length > 1) issues.push(issueAt(doc, [...a, 'fromHeaders'], 'multiple fromHeaders are not supported'));
    if (params.length > 1) issues.push(issueAt(doc, [...a, paramsField], 'multiple fromParams are not supported'));
    headers.forEach((h, n) => {
      if (h.name.toLowerCase() === 'authorization' && (h.prefix ?? '') === '') {
        issues.push(
          issueAt(doc, [...a, 'fromHeaders', n, 'prefix'], 'no prefix: the whole Authorization value, "Bearer " included, is taken as the token', 'warning'),
        );
      }
    });
  });
  const authorizations = jwt.authorizations;
  if (authorizations !== undefined && authorizations.length === 0) {
    issues.push(issueAt(doc, [...at, 'authorizations'], 'authorizations defined, but no configuration exists'));
  }
  (authorizations ?? []).forEach((authz, k) => {
    const a: PropertyKey[] = [...at, 'authorizations', k];
    for (const [field, list, what] of [
      ['requiredScopes', authz.requiredScopes, 'scope'],
      ['audiences', authz.audiences, 'audience'],
    ] as const) {
      if (list === undefined) continue;
      if (list.length === 0) issues.push(issueAt(doc, [...a, field], 'value is empty'));
      list.forEach((v, n) => {
        if (v === '') issues.push(issueAt(doc, [...a, field, n], `${what} value is empty`));
      });
    }
  });
  return issues;
}

/** Kyma validateJwtIssuer: non-empty; RFC 7519 §4.1.1: a value containing `:` must be a URI. */
function issuerProblem(issuer: string): string | undefined {
  if (issuer === '') return 'value is empty';
  if (issuer.includes(':') && !URL.canParse(issuer)) return 'contains ":" but is not a valid URI';
  return undefined;
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const u = new URL(value);
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
}

/**
 * Kyma hasPathByMethodConflict: rules are matched top to bottom, so a rule whose path an earlier rule with a
 * shared method already covers can never be reached for that method. One issue per unreachable rule.
 */
function validatePathOrder(doc: RawDocument, rules: readonly Rule[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  rules.forEach((rule, j) => {
    for (let i = 0; i < j; i++) {
      const earlier = rules[i];
      if (earlier === undefined) continue;
      const shared = rule.methods.find((m) => earlier.methods.includes(m));
      if (shared === undefined || !pathCovers(earlier.path, rule.path)) continue;
      issues.push(
        issueAt(
          doc,
          ['spec', 'rules', j, 'path'],
          `path ${rule.path} with method ${shared} conflicts with spec.rules[${i}] (path ${earlier.path}), which already matches every such request: order rules from the most specific path to the most general`,
        ),
      );
      break;
    }
  });
  return issues;
}

/** Kyma validateJwtAuthenticationEquality: one issuer + JWKS URI, one set of token locations. */
function validateSameIssuerSameLocations(doc: RawDocument, rules: readonly Rule[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, string>();
  rules.forEach((rule, i) => {
    (rule.jwt?.authentications ?? []).forEach((auth, k) => {
      const key = JSON.stringify([auth.issuer, auth.jwksUri]);
      const locations = JSON.stringify([(auth.fromHeaders ?? []).map((h) => [h.name, h.prefix ?? '']), paramsOf(auth) ?? []]);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, locations);
      else if (first !== locations) {
        issues.push(
          issueAt(doc, ['spec', 'rules', i, 'jwt', 'authentications', k], 'multiple jwt configurations that differ for the same issuer'),
        );
      }
    });
  });
  return issues;
}
