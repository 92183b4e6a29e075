/** Helpers for the Kyma dialect unit tests: compile YAML text, build prepared requests and identities, decide. */
import { evaluateAuthorization } from '../../../../../src/check/evaluate-policy.js';
import { evaluatePredicate } from '../../../../../src/check/evaluate-predicate.js';
import type { Identity } from '../../../../../src/model/identity.js';
import type { SnapshotFragment } from '../../../../../src/model/policy.js';
import type { PreparedRequest } from '../../../../../src/model/request.js';
import { preparedRequest } from '../../../../helpers/engine.js';
import type { ConfigIssue } from '../../../../../src/policy/config-issue.js';
import { kymaDialect } from '../../../../../src/policy/dialects/kyma/index.js';
import { type CompileOptions, DEFAULT_COMPILE_OPTIONS } from '../../../../../src/policy/dialects/types.js';
import { type RawDocument, parseText } from '../../../../../src/policy/read-documents.js';

export const HOST = 'api.example.com';
export const ISSUER = 'https://issuer.example.com';
export const JWKS = 'https://issuer.example.com/.well-known/jwks.json';

/** Compiles YAML text (one or more documents) with the Kyma dialect. */
export function compileYaml(text: string, options: Partial<CompileOptions> = {}): { fragment: SnapshotFragment; issues: ConfigIssue[] } {
  const documents: RawDocument[] = [];
  const issues: ConfigIssue[] = [];
  parseText('policies/kyma.yaml', text, documents, issues);
  if (issues.length > 0) throw new TypeError(`YAML did not parse: ${JSON.stringify(issues)}`);
  const r = kymaDialect.compile(documents, { options: { ...DEFAULT_COMPILE_OPTIONS, ...options }, readFile: () => '' });
  return { fragment: r.fragment, issues: r.issues };
}

/** Compiles and insists on no error issues. */
export function compileOk(text: string, options: Partial<CompileOptions> = {}): SnapshotFragment {
  const { fragment, issues } = compileYaml(text, options);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new TypeError(`unexpected issues: ${JSON.stringify(errors)}`);
  return fragment;
}

/** An APIRule document around `rules` (YAML text indented under `rules:`), host HOST. */
export function apiRule(rules: string, extra: { readonly host?: string; readonly name?: string; readonly version?: string } = {}): string {
  return `apiVersion: gateway.kyma-project.io/${extra.version ?? 'v2'}
kind: APIRule
metadata:
  name: ${extra.name ?? 'httpbin'}
  namespace: test
spec:
  hosts: ['${extra.host ?? HOST}']
  gateway: kyma-system/kyma-gateway
  service: { name: httpbin, port: 8000 }
  rules:
${rules.replace(/^/gm, '    ')}
`;
}

/** A jwt access strategy for ISSUER (YAML, to be placed inside a rule). */
export function jwt(authorizations?: string): string {
  return `jwt:
  authentications:
    - issuer: ${ISSUER}
      jwksUri: ${JWKS}${authorizations === undefined ? '' : `\n  authorizations: ${authorizations}`}`;
}

/** A prepared request as `check/prepare-request` builds it. */
export function request(method: string, target: string, host = HOST): PreparedRequest {
  return preparedRequest({ method, path: target, host, scheme: 'https' });
}

/** A verified identity with these claims (scope/permission split on spaces, as verify-token does). */
export function identity(claims: Record<string, unknown>): Identity {
  const all: Record<string, unknown> = { iss: ISSUER, sub: 'alice', ...claims };
  const matchClaims: Record<string, unknown> = { ...all };
  for (const name of ['scope', 'permission']) {
    const v = all[name];
    if (typeof v === 'string') matchClaims[name] = v.split(' ').filter((s) => s !== '');
  }
  const aud = all['aud'];
  return {
    issuer: typeof all['iss'] === 'string' ? all['iss'] : '',
    subject: typeof all['sub'] === 'string' && all['sub'] !== '' ? all['sub'] : undefined,
    audiences: typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [],
    claims: all,
    matchClaims,
    payloadSegment: '',
    providerId: 'test',
    notAfter: Infinity,
    notBefore: -Infinity,
  };
}

/** The authorization outcome: 'allow' or the deny status. */
export function decide(fragment: SnapshotFragment, req: PreparedRequest, id: Identity | undefined): 'allow' | 403 | 404 {
  const r = evaluateAuthorization(fragment.authorizationPolicies, { request: req, identity: id }, undefined);
  if (r.allowed) return 'allow';
  if (r.decision.kind !== 'deny' || r.decision.status === 400 || r.decision.status === 401) throw new TypeError('unexpected decision');
  return r.decision.status;
}

/** The rule that allowed (its name), or undefined. */
export function allowedBy(fragment: SnapshotFragment, req: PreparedRequest, id: Identity | undefined): string | undefined {
  const r = evaluateAuthorization(fragment.authorizationPolicies, { request: req, identity: id }, undefined);
  return r.allowed ? r.rule : undefined;
}

/** Ids of the WorkloadAuthn entries whose scope holds for the request. */
export function authnFor(fragment: SnapshotFragment, req: PreparedRequest): string[] {
  return fragment.workloadAuthn.filter((w) => evaluatePredicate(w.scope, { request: req, identity: undefined })).map((w) => w.id);
}
