/**
 * Helpers for the Airlock dialect unit tests: compile YAML text (with an in-memory file system for JWKS and CA
 * files), build prepared requests and identities, and run the compiled first-match policies on them.
 */
import { evaluatePredicate } from '../../../../../src/check/evaluate-predicate.js';
import type { Identity } from '../../../../../src/model/identity.js';
import type { SnapshotFragment } from '../../../../../src/model/policy.js';
import type { PreparedRequest } from '../../../../../src/model/request.js';
import { preparedRequest } from '../../../../helpers/engine.js';
import type { ConfigIssue } from '../../../../../src/policy/config-issue.js';
import { airlockDialect } from '../../../../../src/policy/dialects/airlock/index.js';
import { DEFAULT_COMPILE_OPTIONS } from '../../../../../src/policy/dialects/types.js';
import { type RawDocument, parseText } from '../../../../../src/policy/read-documents.js';

export const FILE = 'policies/airlock.yaml';
export const ISSUER = 'https://issuer.example.com';

/** Files the documents may name, by path relative to `policies/`. */
export type Files = Readonly<Record<string, string>>;

/** Compiles YAML text (one or more documents) with the Airlock dialect. */
export function compileYaml(text: string, files: Files = {}): { fragment: SnapshotFragment; issues: ConfigIssue[] } {
  const documents: RawDocument[] = [];
  const parseIssues: ConfigIssue[] = [];
  parseText(FILE, text, documents, parseIssues);
  if (parseIssues.length > 0) throw new TypeError(`YAML did not parse: ${JSON.stringify(parseIssues)}`);
  const readFile = (from: string, path: string): string => {
    const dir = from.slice(0, from.lastIndexOf('/') + 1);
    const key = path.startsWith('/') ? path : `${dir}${path.replace(/^\.\//, '')}`;
    const text = files[key.replace(/^policies\//, '')];
    if (text === undefined) throw new Error(`ENOENT: no such file '${key}'`);
    return text;
  };
  const r = airlockDialect.compile(documents, { options: DEFAULT_COMPILE_OPTIONS, readFile });
  return { fragment: r.fragment, issues: r.issues };
}

/** Compiles and insists on no error issues. */
export function compileOk(text: string, files: Files = {}): SnapshotFragment {
  const { fragment, issues } = compileYaml(text, files);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new TypeError(`unexpected issues: ${JSON.stringify(errors)}`);
  return fragment;
}

/** `path: message` of every error (or warning) issue, for compact assertions. */
export function issuesOf(text: string, files: Files = {}, severity: 'error' | 'warning' = 'error'): string[] {
  return compileYaml(text, files)
    .issues.filter((i) => i.severity === severity)
    .map((i) => `${i.path}: ${i.message}`);
}

/** A local JWKS (`jwksFile: keys.json`), a JWT using it and an HTTPRoute `backend` — the usual preamble. */
export function preamble(jwtSpec = 'expirationRequired: true\n  requireAny:\n    - jwksRef: { name: keys }', route = 'rules: [{}]'): string {
  return `apiVersion: microgateway.airlock.com/v1alpha1
kind: JWKS
metadata: { name: keys }
spec:
  provider:
    local: { jwksFile: keys.json }
---
apiVersion: microgateway.airlock.com/v1alpha1
kind: JWT
metadata: { name: jwt }
spec:
  ${jwtSpec}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend }
spec:
  parentRefs: [{ name: gw }]
  ${route}
`;
}

/** An AccessControlPolicy on `backend` with `policies` (YAML text indented under `policies:`). */
export function acp(policies: string, name = 'acp', targets = '[{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: backend }]'): string {
  return `---
apiVersion: microgateway.airlock.com/v1alpha1
kind: AccessControlPolicy
metadata: { name: ${name} }
spec:
  targetRefs: ${targets}
  policies:
${policies.replace(/^/gm, '    ')}
`;
}

/** A JWKS file text with one RSA-like public key (the modulus is 2048 bits of filler; it is never used to verify). */
export const KEYS_JSON = JSON.stringify({ keys: [{ kty: 'RSA', kid: 'k1', e: 'AQAB', n: Buffer.alloc(256, 7).toString('base64url') }] });
export const FILES: Files = { 'keys.json': KEYS_JSON };

export interface RequestSpec {
  readonly method?: string;
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly ip?: string;
}

/** A prepared request as `check/prepare-request` builds it. */
export function request(target: string, spec: RequestSpec = {}): PreparedRequest {
  return preparedRequest({
    method: spec.method ?? 'GET',
    host: spec.host ?? 'api.example.com',
    path: target,
    scheme: 'https',
    ...(spec.headers === undefined ? {} : { headers: spec.headers }),
    ...(spec.ip === undefined ? {} : { sourceAddress: spec.ip }),
  });
}

/** A verified identity with these claims, matched as Airlock matches them (nothing split on spaces). */
export function identity(claims: Record<string, unknown>): Identity {
  const all: Record<string, unknown> = { iss: ISSUER, sub: 'alice', ...claims };
  return {
    issuer: typeof all['iss'] === 'string' ? all['iss'] : '',
    subject: typeof all['sub'] === 'string' && all['sub'] !== '' ? all['sub'] : undefined,
    audiences: [],
    claims: all,
    matchClaims: all,
    payloadSegment: '',
    providerId: 'test',
    notAfter: Infinity,
    notBefore: -Infinity,
  };
}

/** What the first-match policies decide, as the engine's ordered step would (token verification assumed done). */
export type Outcome = 'allow' | 'deny' | 'no-token' | 'claims-denied' | 'unmatched' | 'not-governed';

/**
 * Runs the compiled ordered policies: every policy whose scope holds must let the request through; in each, the
 * first entry whose `when` holds decides. `who` is the verified token's identity (undefined = no token).
 */
export function decide(fragment: SnapshotFragment, req: PreparedRequest, who: Identity | undefined): Outcome {
  let governed = false;
  for (const policy of fragment.orderedPolicies) {
    if (!evaluatePredicate(policy.scope, { request: req, identity: undefined })) continue;
    governed = true;
    const entry = policy.entries.find((e) => evaluatePredicate(e.when, { request: req, identity: undefined }));
    if (entry === undefined) return 'unmatched';
    const o = entry.outcome;
    if (o.kind === 'deny') return 'deny';
    if (o.kind === 'authenticate') {
      if (who === undefined) return 'no-token';
      if (!evaluatePredicate(o.require, { request: req, identity: who })) return 'claims-denied';
    }
  }
  return governed ? 'allow' : 'not-governed';
}

/** Names of the ordered policies whose scope holds for the request. */
export function policiesFor(fragment: SnapshotFragment, req: PreparedRequest): string[] {
  return fragment.orderedPolicies.filter((p) => evaluatePredicate(p.scope, { request: req, identity: undefined })).map((p) => p.name);
}
