import { type CheckDeps, check } from '../../src/check/check.js';
import { DEFAULT_KEYSTORE_OPTIONS, KeyStore } from '../../src/check/jwks.js';
import { DEFAULT_TOKEN_CACHE_OPTIONS, TokenCache } from '../../src/check/token-cache.js';
import type { Decision, TraceEntry } from '../../src/model/decision.js';
import { type PolicySnapshot, providersOf } from '../../src/model/policy.js';
import type { PreparedRequest, RequestAttributes } from '../../src/model/request.js';
import { prepareRequest } from '../../src/check/prepare-request.js';
import { type ConfigIssue, formatIssue } from '../../src/policy/config-issue.js';
import { compilePolicies } from '../../src/policy/compile-policies.js';
import { type CompileOptions, DEFAULT_COMPILE_OPTIONS } from '../../src/policy/dialects/types.js';
import { type RawDocument, parseText } from '../../src/policy/read-documents.js';

/** Compiles YAML text (multi-document) into a snapshot, or returns the issues. */
export function compileYaml(yaml: string, options: Partial<CompileOptions> = {}, file = 'test.yaml'): { snapshot?: PolicySnapshot; issues: ConfigIssue[] } {
  const docs: RawDocument[] = [];
  const issues: ConfigIssue[] = [];
  parseText(file, yaml, docs, issues);
  if (issues.length > 0) return { issues };
  const r = compilePolicies(docs, { ...DEFAULT_COMPILE_OPTIONS, ...options }, 'test');
  return r.ok ? { snapshot: r.snapshot, issues: r.warnings } : { issues: r.issues };
}

/** Request fields for tests; headers may repeat by passing an array. */
export interface TestRequest {
  method?: string;
  path?: string;
  host?: string;
  scheme?: string;
  headers?: Readonly<Record<string, string | readonly string[]>>;
  sourceAddress?: string;
  sourcePrincipal?: string;
  destinationAddress?: string;
  destinationPort?: number;
  destinationPrincipal?: string;
  contextExtensions?: Readonly<Record<string, string>>;
  sni?: string;
}

export function toAttributes(r: TestRequest): RequestAttributes {
  const headers = new Map<string, string[]>();
  for (const [k, v] of Object.entries(r.headers ?? {})) headers.set(k.toLowerCase(), typeof v === 'string' ? [v] : [...v]);
  return {
    method: r.method ?? 'GET',
    scheme: r.scheme ?? 'http',
    host: r.host ?? 'example.com',
    path: r.path ?? '/',
    headers,
    source: { address: r.sourceAddress ?? '10.0.0.1', port: 40000, principal: r.sourcePrincipal ?? '' },
    destination: { address: r.destinationAddress ?? '10.0.0.2', port: r.destinationPort ?? 8080, principal: r.destinationPrincipal ?? '' },
    contextExtensions: new Map(Object.entries(r.contextExtensions ?? {})),
    requestId: 'test-request',
    sni: r.sni ?? '',
  };
}

/** A request prepared as `check/prepare-request` does it (for tests that evaluate predicates directly). */
export function preparedRequest(r: TestRequest): PreparedRequest {
  const p = prepareRequest(toAttributes(r), { pathNormalization: 'BASE', maxHeaders: 512 });
  if ('kind' in p) throw new TypeError(`request rejected: ${JSON.stringify(p)}`);
  return p;
}

/** An engine over one snapshot with an injectable clock. */
export interface TestEngine {
  readonly snapshot: PolicySnapshot;
  readonly keys: KeyStore;
  readonly cache: TokenCache;
  decide(req: TestRequest, trace?: TraceEntry[]): Promise<Decision>;
  close(): void;
}

export function engineFor(yaml: string, options: { now?: () => number; compile?: Partial<CompileOptions>; cache?: boolean; strictBearer?: boolean } = {}): TestEngine {
  const { snapshot, issues } = compileYaml(yaml, options.compile);
  if (snapshot === undefined) throw new Error(`policies do not compile:\n${issues.map(formatIssue).join('\n')}`);
  const now = options.now ?? Date.now;
  const keys = new KeyStore({ ...DEFAULT_KEYSTORE_OPTIONS, now, onWarn: () => undefined, onFetch: () => undefined });
  keys.register(providersOf(snapshot).map((p) => p.keys));
  const cache = new TokenCache(DEFAULT_TOKEN_CACHE_OPTIONS, now);
  const deps: CheckDeps = { keys, cache: options.cache === false ? undefined : cache, now, maxTokenBytes: 8192, prepare: { pathNormalization: 'BASE', maxHeaders: 512, maxHeaderBytes: 98304 }, strictBearer: options.strictBearer ?? false };
  return {
    snapshot,
    keys,
    cache,
    decide: (req, trace) => check(snapshot, toAttributes(req), deps, Date.now() + 2000, trace),
    close: () => keys.close(),
  };
}

/** HTTP status of a decision (200 for allow). */
export function statusOf(d: Decision): number {
  return d.kind === 'allow' ? 200 : d.status;
}
