import type { z } from 'zod';
import type { AuthorizationPolicy, WorkloadAuthn } from '../../../model/policy.js';
import { type ConfigIssue, formatPath } from '../../config-issue.js';
import { issueAt } from '../../matchers.js';
import type { RawDocument } from '../../read-documents.js';
import type { CompileContext, CompileResult, Dialect } from '../types.js';
import { compileApiRule } from './compile.js';
import { API_GROUP, type APIRule, SUPPORTED_VERSIONS, apiRuleSchema } from './schema.js';
import { validateApiRule } from './validate.js';

const MIGRATE =
  'migrate to gateway.kyma-project.io/v2: spec.host → spec.hosts: [<host>]; rules[].accessStrategies ' +
  '[{handler: jwt, config: {authentications, authorizations}}] → rules[].jwt: {authentications, authorizations}; ' +
  'handler noop/allow/no_auth → noAuth: true; regex paths → exact paths or {*} / {**}';

/** Hints for fields of the legacy (v1beta1, seed 001) shape found in a v2 document. */
const LEGACY_FIELDS: Readonly<Record<string, string>> = {
  accessStrategies: 'accessStrategies is the v1beta1 shape: in v2 write jwt: {authentications, authorizations} or noAuth: true',
  mutators: 'mutators are a v1beta1 (Ory Oathkeeper) field: in v2 use request: {headers, cookies}',
  host: 'host is the v1beta1 field: in v2 write hosts: [<host>]',
  handler: 'handler is part of the v1beta1 accessStrategies shape: in v2 write jwt or noAuth on the rule',
};

/** Kyma API Gateway `APIRule` (v2, v2alpha1). */
export const kymaDialect: Dialect = {
  name: 'kyma',
  handles: (apiVersion, kind) => kind === 'APIRule' && apiVersion.startsWith(`${API_GROUP}/`),
  compile(documents: readonly RawDocument[], context: CompileContext): CompileResult {
    const issues: ConfigIssue[] = [];
    const workloadAuthn: WorkloadAuthn[] = [];
    const authorizationPolicies: AuthorizationPolicy[] = [];
    const hosts = new Map<string, RawDocument>();
    for (const doc of documents) {
      const parsed = parseApiRule(doc);
      if (!parsed.ok) {
        issues.push(...parsed.issues);
        continue;
      }
      const found = validateApiRule(doc, parsed.apiRule);
      const host = parsed.apiRule.spec.hosts[0]?.toLowerCase() ?? '';
      const owner = hosts.get(host);
      if (owner === undefined) hosts.set(host, doc);
      else {
        // Kyma: a host is served by one APIRule only (the second one's VirtualService is refused).
        found.push(issueAt(doc, ['spec', 'hosts', 0], `host ${host} is already used by the APIRule in ${owner.file}#${owner.index}`));
      }
      issues.push(...found);
      if (found.some((i) => i.severity === 'error')) continue;
      const compiled = compileApiRule(doc, parsed.apiRule, context.options);
      issues.push(...compiled.issues);
      workloadAuthn.push(...compiled.workloadAuthn);
      authorizationPolicies.push(...compiled.authorizationPolicies);
    }
    const fragment = deepFreeze({ workloadAuthn, authorizationPolicies, authenticators: [], orderedPolicies: [] });
    return { fragment, issues };
  },
};

type Parsed = { readonly ok: true; readonly apiRule: APIRule } | { readonly ok: false; readonly issues: ConfigIssue[] };

/** Version check, then the strict schema. */
export function parseApiRule(doc: RawDocument): Parsed {
  const version = doc.apiVersion.slice(API_GROUP.length + 1);
  if (version === 'v1beta1' || version === 'v1alpha1') {
    return { ok: false, issues: [issueAt(doc, ['apiVersion'], `APIRule ${doc.apiVersion} is not supported; ${MIGRATE}`)] };
  }
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    return {
      ok: false,
      issues: [issueAt(doc, ['apiVersion'], `unknown APIRule version ${version}; supported: ${SUPPORTED_VERSIONS.join(', ')}`)],
    };
  }
  const result = apiRuleSchema.safeParse(doc.body);
  if (result.success) return { ok: true, apiRule: result.data };
  return { ok: false, issues: schemaIssues(doc, result.error) };
}

/** Zod issues → ConfigIssues; an unknown field is reported at its own path, with a hint for legacy fields. */
function schemaIssues(doc: RawDocument, error: z.ZodError): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const i of error.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const key of i.keys) {
        const hint = LEGACY_FIELDS[key];
        out.push(issueAt(doc, [...i.path, key], hint ?? `unknown field "${key}"`));
      }
      continue;
    }
    out.push({ file: doc.file, document: doc.index, path: formatPath(i.path), message: i.message, severity: 'error' });
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
