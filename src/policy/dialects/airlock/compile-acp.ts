import type { Predicate } from '../../../model/matcher.js';
import { ALWAYS, allOf, anyOf, testString } from '../../../model/matcher.js';
import type { Authenticator, OrderedEntry, OrderedPolicy, Outcome } from '../../../model/policy.js';
import type { ConfigIssue } from '../../config-issue.js';
import { issueAt } from '../../matchers.js';
import type { AccessControlPolicy, AccessPolicy, ClaimCondition } from './acp-schema.js';
import { compileConditions } from './compile-conditions.js';
import { type Parsed, refKey } from './parsed.js';
import { literalOf, toStringMatcher } from './string-matcher.js';

type Path = readonly (string | number)[];

/** What an AccessControlPolicy resolves its references against. */
export interface AcpContext {
  /** Scope of each HTTPRoute by `namespace/name` (see `routeScope`). */
  readonly routeScopes: ReadonlyMap<string, Predicate>;
  /** Authenticator of each JWT by `namespace/name`; `'failed'` when the JWT itself was refused (already reported). */
  readonly jwtFor: (key: string) => Authenticator | 'failed' | 'missing';
  /** Routes already targeted, by route key → the policy that targets it (one policy per route). */
  readonly targeted: Map<string, string>;
}

const ROUTE_GROUP = 'gateway.networking.k8s.io';

/**
 * Compiles an AccessControlPolicy into one OrderedPolicy per target HTTPRoute (first matching entry decides;
 * no entry matching ⇒ 403). Returns the authenticators its entries use.
 */
export function compileAcp(p: Parsed<AccessControlPolicy>, ctx: AcpContext, issues: ConfigIssue[]): { policies: OrderedPolicy[]; authenticators: Authenticator[] } {
  const spec = p.value.spec;
  const used = new Map<string, Authenticator>();
  const entries: OrderedEntry[] = [];
  let ok = true;
  const last = spec.policies.length - 1;
  spec.policies.forEach((policy, i) => {
    const at = ['spec', 'policies', i];
    if (i < last && policy.requestConditions === undefined) {
      issues.push(issueAt(p.doc, at, "all except the last access control policy in 'policies' must specify 'requestConditions'"));
      ok = false;
    }
    if (i === last && policy.requestConditions !== undefined) {
      issues.push(issueAt(p.doc, [...at, 'requestConditions'], 'the last policy has requestConditions (Airlock ≥ 4.8 refuses this): requests that match no policy are denied with 403', 'warning'));
    }
    const entry = compileEntry(p, policy, at, ctx, used, issues);
    if (entry === undefined) ok = false;
    else entries.push(entry);
  });
  const policies: OrderedPolicy[] = [];
  const seen = new Set<string>();
  spec.targetRefs.forEach((t, j) => {
    const at = ['spec', 'targetRefs', j];
    if (t.group !== ROUTE_GROUP) issues.push(issueAt(p.doc, [...at, 'group'], `TargetRef Group must be ${ROUTE_GROUP}.`));
    if (t.kind !== 'HTTPRoute') issues.push(issueAt(p.doc, [...at, 'kind'], 'TargetRef Kind must be: HTTPRoute'));
    if (t.group !== ROUTE_GROUP || t.kind !== 'HTTPRoute') {
      ok = false;
      return;
    }
    const key = refKey(p.namespace, t.name);
    if (seen.has(key)) {
      issues.push(issueAt(p.doc, at, 'Combination of name, group and kind must be unique for each TargetRef'));
      ok = false;
      return;
    }
    seen.add(key);
    const scope = ctx.routeScopes.get(key);
    if (scope === undefined) {
      issues.push(issueAt(p.doc, [...at, 'name'], `HTTPRoute "${key}" not found`));
      ok = false;
      return;
    }
    const other = ctx.targeted.get(key);
    if (other !== undefined) {
      // Which of two policies applies would depend on creation order in the cluster: refuse instead of guessing.
      issues.push(issueAt(p.doc, [...at, 'name'], `HTTPRoute "${key}" is already targeted by AccessControlPolicy ${other}`));
      ok = false;
      return;
    }
    ctx.targeted.set(key, `"${p.key}" (${p.doc.file}#${p.doc.index})`);
    policies.push({
      id: `${p.doc.file}#${p.doc.index} spec.targetRefs[${j}]`,
      name: `AccessControlPolicy ${p.key} on HTTPRoute ${key}`,
      scope,
      entries,
      unmatchedStatus: 403,
    });
  });
  return ok ? { policies, authenticators: [...used.values()] } : { policies: [], authenticators: [] };
}

function compileEntry(
  p: Parsed<AccessControlPolicy>,
  policy: AccessPolicy,
  at: Path,
  ctx: AcpContext,
  used: Map<string, Authenticator>,
  issues: ConfigIssue[],
): OrderedEntry | undefined {
  let ok = true;
  const fail = (path: Path, message: string): void => {
    issues.push(issueAt(p.doc, [...at, ...path], message));
    ok = false;
  };
  const when = policy.requestConditions === undefined ? ALWAYS : compileConditions(p.doc, policy.requestConditions, [...at, 'requestConditions'], issues);
  if (when === undefined) ok = false;
  const auth = policy.authorization;
  if (auth.deny !== undefined && policy.identityPropagation !== undefined) fail(['identityPropagation'], 'policy with authorization.deny must not specify identityPropagation');
  else if (policy.identityPropagation !== undefined) {
    // Upstreams trust propagated identity headers; passing a client's own copy through would let it pick one.
    fail(['identityPropagation'], 'identityPropagation is not supported');
  }
  if (policy.tokenExchange !== undefined) fail(['tokenExchange'], 'tokenExchange is not supported');
  if (auth.ensured !== undefined) fail(['authorization', 'ensured'], 'ensured (OIDC) is not supported');
  if (auth.requireAll !== undefined && auth.requireAny !== undefined) fail(['authorization'], 'at most one of requireAll and requireAny may be set');
  let outcome: Outcome | undefined;
  if (auth.deny !== undefined) {
    if (auth.authentication !== undefined || auth.requireAll !== undefined || auth.requireAny !== undefined) {
      fail(['authorization', 'deny'], 'deny cannot be combined with authentication, requireAll or requireAny');
    }
    outcome = { kind: 'deny' };
  } else if (auth.authentication?.oidc !== undefined) {
    fail(['authorization', 'authentication', 'oidc'], 'OIDC authentication is not supported');
  } else if (auth.authentication?.jwt !== undefined) {
    const key = refKey(p.namespace, auth.authentication.jwt.jwtRef.name);
    const found = ctx.jwtFor(key);
    if (found === 'missing') fail(['authorization', 'authentication', 'jwt', 'jwtRef', 'name'], `JWT "${key}" not found`);
    else if (found === 'failed') ok = false;
    else used.set(found.id, found);
    const require = compileRequire(p, policy, at, issues);
    if (require === undefined) ok = false;
    if (found !== 'missing' && found !== 'failed' && require !== undefined) outcome = { kind: 'authenticate', authenticator: found.id, require };
  } else {
    if (auth.requireAll !== undefined || auth.requireAny !== undefined) {
      compileRequire(p, policy, at, issues);
      fail(['authorization'], 'cannot specify requireAny[*].jwt or requireAll[*].jwt without authentication.jwt');
    }
    // `authorization: {}`: access control disabled for the requests this policy selects.
    outcome = { kind: 'allow' };
  }
  if (!ok || when === undefined || outcome === undefined) return undefined;
  return { name: `${p.key} policies[${String(at[2])}]`, when, outcome };
}

/** `requireAll` ⇒ every claim condition; `requireAny` ⇒ one of them; neither ⇒ a verified token suffices. */
function compileRequire(p: Parsed<AccessControlPolicy>, policy: AccessPolicy, at: Path, issues: ConfigIssue[]): Predicate | undefined {
  const auth = policy.authorization;
  const field = auth.requireAll !== undefined ? 'requireAll' : 'requireAny';
  const list = auth.requireAll ?? auth.requireAny;
  if (list === undefined) return ALWAYS;
  const preds: Predicate[] = [];
  let ok = true;
  list.forEach((c, i) => {
    const pred = claimPredicate(p, c, [...at, 'authorization', field, i], issues);
    if (pred === undefined) ok = false;
    else preds.push(pred);
  });
  if (!ok) return undefined;
  return field === 'requireAll' ? allOf(preds) : anyOf(preds);
}

function claimPredicate(p: Parsed<AccessControlPolicy>, c: ClaimCondition, at: Path, issues: ConfigIssue[]): Predicate | undefined {
  if (c.jwt === undefined) {
    const kind = c.oidc !== undefined ? 'oidc' : c.tokenExchange !== undefined ? 'tokenExchange' : 'clientCertificate';
    issues.push(issueAt(p.doc, [...at, kind], `${kind} conditions are not supported`));
    return undefined;
  }
  const { name, value } = c.jwt.claim;
  // Dot paths address nested claims (`realm_access.roles`); a claim name containing `.` cannot be addressed.
  const path = name.split('.');
  if (path.some((s) => s === '')) {
    issues.push(issueAt(p.doc, [...at, 'jwt', 'claim', 'name'], `claim name "${name}" has an empty path segment`));
    return undefined;
  }
  // Airlock: primitives are matched on their string form, arrays element by element; objects and null never match.
  const attribute = { kind: 'claim', path, coercion: 'primitives' } as const;
  if (value === undefined) return { kind: 'test', attribute, test: { kind: 'exists' } };
  const m = toStringMatcher(value.matcher);
  if (typeof m === 'string') {
    issues.push(issueAt(p.doc, [...at, 'jwt', 'claim', 'value', 'matcher', 'regex'], m));
    return undefined;
  }
  if (literalOf(value.matcher)?.includes('"') === true) {
    // Older Airlock examples matched arrays as JSON text (`contains: '"admin"'`); elements are compared one by one here.
    issues.push(issueAt(p.doc, [...at, 'jwt', 'claim', 'value', 'matcher'], 'the value holds a double quote: array claims are matched element by element, not as JSON text (write exact: admin, not contains: \'"admin"\')', 'warning'));
  }
  return testString(attribute, m);
}
