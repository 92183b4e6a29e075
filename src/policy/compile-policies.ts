import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Authenticator, AuthorizationPolicy, OrderedPolicy, PolicySnapshot, WorkloadAuthn } from '../model/policy.js';
import type { ConfigIssue } from './config-issue.js';
import { DIALECTS, dialectFor } from './dialects/index.js';
import type { CompileContext, CompileOptions } from './dialects/types.js';
import { type RawDocument, readDocuments } from './read-documents.js';

export type BuildResult =
  | { readonly ok: true; readonly snapshot: PolicySnapshot; readonly warnings: ConfigIssue[] }
  | { readonly ok: false; readonly issues: ConfigIssue[] };

let generation = 0;

/** Default file access for dialects: paths relative to the document's own file. */
export function readRelative(fromDocumentFile: string, path: string): string {
  return readFileSync(isAbsolute(path) ? path : resolve(dirname(fromDocumentFile), path), 'utf8');
}

/** RawDocument[] → PolicySnapshot, or every issue found. Never a partial snapshot. */
export function compilePolicies(
  documents: readonly RawDocument[],
  options: CompileOptions,
  digest: string,
  readFile: CompileContext['readFile'] = readRelative,
): BuildResult {
  const issues: ConfigIssue[] = [];
  const byDialect = new Map(DIALECTS.map((d) => [d, [] as RawDocument[]]));
  for (const doc of documents) {
    const d = dialectFor(doc.apiVersion, doc.kind);
    if (d === undefined) {
      issues.push({ file: doc.file, document: doc.index, path: 'kind', message: `unknown kind ${doc.apiVersion} ${doc.kind}`, severity: 'error' });
      continue;
    }
    byDialect.get(d)?.push(doc);
  }
  const workloadAuthn: WorkloadAuthn[] = [];
  const authorizationPolicies: AuthorizationPolicy[] = [];
  const authenticators = new Map<string, Authenticator>();
  const orderedPolicies: OrderedPolicy[] = [];
  const context: CompileContext = { options, readFile };
  for (const [dialect, docs] of byDialect) {
    if (docs.length === 0) continue;
    const r = dialect.compile(docs, context);
    issues.push(...r.issues);
    workloadAuthn.push(...r.fragment.workloadAuthn);
    authorizationPolicies.push(...r.fragment.authorizationPolicies);
    for (const a of r.fragment.authenticators) authenticators.set(a.id, a);
    orderedPolicies.push(...r.fragment.orderedPolicies);
  }
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) return { ok: false, issues };
  // Istio merges the rules of all applicable RequestAuthentications sorted by issuer (policy_applier.go).
  workloadAuthn.sort((a, b) => (a.provider.issuer < b.provider.issuer ? -1 : a.provider.issuer > b.provider.issuer ? 1 : 0));
  const snapshot: PolicySnapshot = Object.freeze({
    digest,
    generation: ++generation,
    builtAt: new Date(),
    workloadAuthn: Object.freeze(workloadAuthn),
    authorizationPolicies: Object.freeze(authorizationPolicies),
    authenticators,
    orderedPolicies: Object.freeze(orderedPolicies),
    documentCount: documents.length,
  });
  return { ok: true, snapshot, warnings: issues };
}

/**
 * Reads, validates and compiles everything under `path`. With `unlessDigest`, returns `'unchanged'` without
 * compiling when the files hash to that digest (the 5 s reload poll stays cheap).
 */
export function buildSnapshot(path: string, options: CompileOptions): BuildResult;
export function buildSnapshot(path: string, options: CompileOptions, unlessDigest: string | undefined): BuildResult | 'unchanged';
export function buildSnapshot(path: string, options: CompileOptions, unlessDigest?: string): BuildResult | 'unchanged' {
  const read = readDocuments(path);
  const hash = createHash('sha256');
  for (const s of read.sources) hash.update(s.file).update('\0').update(s.text).update('\0');
  const digest = hash.digest('hex');
  if (unlessDigest !== undefined && digest === unlessDigest && read.issues.length === 0) return 'unchanged';
  const compiled = compilePolicies(read.documents, options, digest);
  if (read.issues.some((i) => i.severity === 'error')) {
    return { ok: false, issues: [...read.issues, ...(compiled.ok ? compiled.warnings : compiled.issues)] };
  }
  return compiled;
}
