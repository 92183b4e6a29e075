import { ALWAYS, type Predicate, allOf, anyOf, not, testString } from '../model/matcher.js';

/**
 * Which requests a namespaced policy applies to (semantics §2.7): no namespace, or the root namespace, means every
 * request; otherwise the request's namespace (`context_extensions.namespace`, else the `ns/<ns>` segment of the
 * destination SPIFFE principal) must equal it. A request whose namespace is unknown (plain Envoy without
 * context_extensions) belongs to every namespace: its policies apply rather than silently lapse (fail closed).
 */
export function namespaceScope(namespace: string | undefined, rootNamespace: string): Predicate {
  if (namespace === undefined || namespace === rootNamespace) return ALWAYS;
  return anyOf([
    testString({ kind: 'namespace' }, { kind: 'exact', value: namespace, ignoreCase: false }),
    not({ kind: 'test', attribute: { kind: 'namespace' }, test: { kind: 'exists' } }),
  ]);
}

/**
 * `selector.matchLabels` against the route's `context_extensions`: a label given there must have the selector's
 * value. A label the route does not mention is unknown, and unknown counts as a match: Istio's CUSTOM provider
 * sends no context_extensions at all, and a selector that then matched nothing would silently switch a DENY policy
 * (or a RequestAuthentication) off. Doubt makes policies apply, never lapse (fail closed).
 */
export function labelScope(matchLabels: Readonly<Record<string, string>> | undefined): Predicate {
  if (matchLabels === undefined) return ALWAYS;
  return allOf(
    Object.entries(matchLabels).map(([name, value]) =>
      anyOf([
        testString({ kind: 'contextExtension', name }, { kind: 'exact', value, ignoreCase: false }),
        not({ kind: 'test', attribute: { kind: 'contextExtension', name }, test: { kind: 'exists' } }),
      ]),
    ),
  );
}
