import type { SnapshotFragment } from '../../model/policy.js';
import type { ConfigIssue } from '../config-issue.js';
import type { RawDocument } from '../read-documents.js';

/** Options that change how documents compile (all from CLI flags / env). */
export interface CompileOptions {
  /** Istio root namespace: policies there apply mesh-wide. */
  readonly rootNamespace: string;
  /** Status for Kyma requests on an APIRule host that match no rule (Kyma itself answers 404). */
  readonly kymaUnmatchedStatus: 403 | 404;
  /** Default JWKS fetch timeout when a document sets none. */
  readonly defaultJwksTimeoutMs: number;
  /** Refuse tokens without `exp` in the Istio and Kyma dialects (Envoy accepts them). */
  readonly requireExpiration: boolean;
}

export const DEFAULT_COMPILE_OPTIONS: CompileOptions = Object.freeze({
  rootNamespace: 'istio-system',
  kymaUnmatchedStatus: 403,
  defaultJwksTimeoutMs: 5000,
  requireExpiration: false,
});

/** What a dialect may use while compiling. */
export interface CompileContext {
  readonly options: CompileOptions;
  /** Reads a file named by a document (path relative to that document's file). Throws on failure. */
  readonly readFile: (fromDocumentFile: string, path: string) => string;
}

export interface CompileResult {
  readonly fragment: SnapshotFragment;
  /** Errors and warnings; any error rejects the whole snapshot. */
  readonly issues: ConfigIssue[];
}

/** A front end for one family of YAML documents. */
export interface Dialect {
  readonly name: string;
  /** true if this dialect owns documents of this apiVersion/kind. */
  handles(apiVersion: string, kind: string): boolean;
  /** Compiles all of this dialect's documents together (they may reference each other). */
  compile(documents: readonly RawDocument[], context: CompileContext): CompileResult;
}

/** An empty fragment. */
export const EMPTY_FRAGMENT: SnapshotFragment = Object.freeze({
  workloadAuthn: [],
  authorizationPolicies: [],
  authenticators: [],
  orderedPolicies: [],
});
