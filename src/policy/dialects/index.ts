import { airlockDialect } from './airlock/index.js';
import { istioDialect } from './istio/index.js';
import { kymaDialect } from './kyma/index.js';
import type { Dialect } from './types.js';

/** Every dialect, in the order their documents are compiled. The only barrel file (STYLE.md). */
export const DIALECTS: readonly Dialect[] = [istioDialect, kymaDialect, airlockDialect];

/** The dialect for a document kind, or undefined. */
export function dialectFor(apiVersion: string, kind: string): Dialect | undefined {
  return DIALECTS.find((d) => d.handles(apiVersion, kind));
}
