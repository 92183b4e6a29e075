import type { z } from 'zod';
import type { Predicate } from '../../../model/matcher.js';
import type { Authenticator, KeySource, OrderedPolicy } from '../../../model/policy.js';
import type { ConfigIssue } from '../../config-issue.js';
import { issueAt, zodIssues } from '../../matchers.js';
import type { RawDocument } from '../../read-documents.js';
import type { CompileContext, CompileResult, Dialect } from '../types.js';
import { type AccessControlPolicy, accessControlPolicySchema } from './acp-schema.js';
import { DEFAULT_NAMESPACE } from './common-schema.js';
import { compileAcp } from './compile-acp.js';
import { compileJwks } from './compile-jwks.js';
import { compileJwt } from './compile-jwt.js';
import { type CompiledRoute, compileRoute } from './compile-route.js';
import { type HTTPRoute, httpRouteSchema } from './httproute-schema.js';
import { type JWKS, jwksSchema } from './jwks-schema.js';
import { type JWT, jwtSchema } from './jwt-schema.js';
import { type Parsed, refKey } from './parsed.js';
import { routeScope } from './route-scope.js';

const AIRLOCK_GROUP = 'microgateway.airlock.com/';
const AIRLOCK_VERSION = 'microgateway.airlock.com/v1alpha1';
const ROUTE_VERSIONS: readonly string[] = ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'];
const KINDS = ['JWKS', 'JWT', 'AccessControlPolicy'] as const;

/**
 * Airlock Microgateway JWT authentication (semantics.md §5): `JWKS`, `JWT` and `AccessControlPolicy` of
 * `microgateway.airlock.com/v1alpha1`, with the Gateway API `HTTPRoute`s they target. Every Airlock kind is
 * claimed so that an unsupported one (IdentityPropagation, OIDCRelyingParty, …) is reported by name.
 */
export const airlockDialect: Dialect = {
  name: 'airlock',
  handles(apiVersion, kind) {
    if (apiVersion.startsWith(AIRLOCK_GROUP)) return true;
    return kind === 'HTTPRoute' && ROUTE_VERSIONS.includes(apiVersion);
  },
  compile: compileAirlock,
};

interface Catalog {
  readonly jwks: Parsed<JWKS>[];
  readonly jwts: Parsed<JWT>[];
  readonly policies: Parsed<AccessControlPolicy>[];
  readonly routes: Parsed<HTTPRoute>[];
}

function compileAirlock(documents: readonly RawDocument[], context: CompileContext): CompileResult {
  const issues: ConfigIssue[] = [];
  const catalog = parseAll(documents, issues);

  const keySources = new Map<string, KeySource | 'failed'>();
  for (const p of catalog.jwks) keySources.set(p.key, compileJwks(p, context, issues) ?? 'failed');

  const authenticators = new Map<string, Authenticator | 'failed'>();
  for (const p of catalog.jwts) {
    const a = compileJwt(p, (key) => keySources.get(key) ?? 'missing', issues);
    authenticators.set(p.key, a ?? 'failed');
  }

  const compiled: CompiledRoute[] = catalog.routes.map((p) => compileRoute(p, issues));
  const routeScopes = new Map<string, Predicate>(compiled.map((r) => [r.parsed.key, routeScope(r, compiled)]));

  const orderedPolicies: OrderedPolicy[] = [];
  const used = new Map<string, Authenticator>();
  const targeted = new Map<string, string>();
  const jwtFor = (key: string): Authenticator | 'failed' | 'missing' => authenticators.get(key) ?? 'missing';
  for (const p of catalog.policies) {
    const r = compileAcp(p, { routeScopes, jwtFor, targeted }, issues);
    orderedPolicies.push(...r.policies);
    for (const a of r.authenticators) used.set(a.id, a);
  }
  const fragment = deepFreeze({
    workloadAuthn: [],
    authorizationPolicies: [],
    // Only authenticators some policy uses: an unused JWT must not make the service fetch keys.
    authenticators: [...used.values()],
    orderedPolicies,
  });
  return { fragment, issues };
}

function parseAll(documents: readonly RawDocument[], issues: ConfigIssue[]): Catalog {
  const catalog: Catalog = { jwks: [], jwts: [], policies: [], routes: [] };
  const seen = new Map<string, RawDocument>();
  for (const doc of documents) {
    if (doc.apiVersion.startsWith(AIRLOCK_GROUP)) {
      if (doc.apiVersion !== AIRLOCK_VERSION) {
        issues.push(issueAt(doc, ['apiVersion'], `unsupported Airlock version ${doc.apiVersion} (supported: ${AIRLOCK_VERSION})`));
        continue;
      }
      if (!(KINDS as readonly string[]).includes(doc.kind)) {
        issues.push(issueAt(doc, ['kind'], `Airlock kind ${doc.kind} is not supported (supported: ${KINDS.join(', ')})`));
        continue;
      }
    }
    const add = <T extends { metadata: { name: string; namespace?: string | undefined } }>(schema: z.ZodType<T>, into: Parsed<T>[]): void => {
      const r = schema.safeParse(doc.body);
      if (!r.success) {
        issues.push(...zodIssues(doc, r.error));
        return;
      }
      const namespace = r.data.metadata.namespace ?? DEFAULT_NAMESPACE;
      const name = r.data.metadata.name;
      const key = refKey(namespace, name);
      const dupKey = `${doc.kind}/${key}`;
      const first = seen.get(dupKey);
      if (first !== undefined) {
        issues.push(issueAt(doc, ['metadata', 'name'], `${doc.kind} "${key}" is already defined in ${first.file}#${first.index}`));
        return;
      }
      seen.set(dupKey, doc);
      into.push({ doc, value: r.data, namespace, name, key });
    };
    switch (doc.kind) {
      case 'JWKS':
        add(jwksSchema, catalog.jwks);
        break;
      case 'JWT':
        add(jwtSchema, catalog.jwts);
        break;
      case 'AccessControlPolicy':
        add(accessControlPolicySchema, catalog.policies);
        break;
      case 'HTTPRoute':
        add(httpRouteSchema, catalog.routes);
        break;
      default:
        issues.push(issueAt(doc, ['kind'], `kind ${doc.kind} is not handled by the Airlock dialect`));
    }
  }
  return catalog;
}

/** Freezes compiled model data all the way down (snapshots never change after they are built). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
