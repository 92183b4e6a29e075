import { ALWAYS, type Predicate, allOf, testString } from '../model/matcher.js';

/**
 * Which requests a namespaced policy applies to (semantics §2.7): no namespace, or the root namespace, means every
 * request; otherwise the request's namespace (`context_extensions.namespace`, else the `ns/<ns>` segment of the
 * destination SPIFFE principal) must equal it.
 */
export function namespaceScope(namespace: string | undefined, rootNamespace: string): Predicate {
  if (namespace === undefined || namespace === rootNamespace) return ALWAYS;
  return testString({ kind: 'namespace' }, { kind: 'exact', value: namespace, ignoreCase: false });
}

/** `selector.matchLabels`: every label must be present with that value in the route's `context_extensions`. */
export function labelScope(matchLabels: Readonly<Record<string, string>> | undefined): Predicate {
  if (matchLabels === undefined) return ALWAYS;
  return allOf(
    Object.entries(matchLabels).map(([name, value]) => testString({ kind: 'contextExtension', name }, { kind: 'exact', value, ignoreCase: false })),
  );
}
