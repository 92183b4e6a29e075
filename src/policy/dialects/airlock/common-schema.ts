import { z } from 'zod';

/**
 * Schema pieces shared by the Airlock kinds and HTTPRoute: Kubernetes object metadata, references by name,
 * and Airlock's `StringMatcher` (CRD `microgateway.airlock.com`, chart 5.x, semantics.md §5.2).
 */

/** RFC 1123 label/subdomain as Kubernetes names use it. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * `metadata` as `kubectl get -o yaml` prints it. Only `name` and `namespace` matter to us; the other ObjectMeta
 * members are accepted so exported objects load unchanged, but anything else is a typo and rejected.
 */
export const metadataSchema = z.strictObject({
  name: z.string().min(1).max(253).regex(DNS_SUBDOMAIN, 'must be a lower-case RFC 1123 subdomain'),
  namespace: z.string().min(1).max(63).regex(DNS_SUBDOMAIN, 'must be a lower-case RFC 1123 label').optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  creationTimestamp: z.union([z.string(), z.date(), z.null()]).optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  generateName: z.string().optional(),
  deletionTimestamp: z.unknown().optional(),
  deletionGracePeriodSeconds: z.number().optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(z.unknown()).optional(),
  managedFields: z.array(z.unknown()).optional(),
});
export type ObjectMeta = z.infer<typeof metadataSchema>;

/** Namespace used when a document names none (what `kubectl apply` without `-n` does). */
export const DEFAULT_NAMESPACE = 'default';

/** `{ name }` reference to an object of a known kind in the same namespace. */
export const nameRefSchema = z.strictObject({ name: z.string().min(1).max(253) });

export const MATCH_KINDS = ['exact', 'prefix', 'suffix', 'contains', 'regex'] as const;

const matchValue = z.string().min(1).max(1024);

/** Airlock `StringMatcher`: exactly one of exact / prefix / suffix / contains / regex, plus `ignoreCase`. */
export const stringMatcherSchema = z
  .strictObject({
    exact: matchValue.optional(),
    prefix: matchValue.optional(),
    suffix: matchValue.optional(),
    contains: matchValue.optional(),
    regex: matchValue.optional(),
    ignoreCase: z.boolean().default(false),
  })
  .superRefine((m, ctx) => exactlyOne(m, MATCH_KINDS, ctx));
export type AirlockStringMatcher = z.infer<typeof stringMatcherSchema>;

/** Airlock "NonInvertableCaseInsensitiveStringMatcher" (header names, media types): no `ignoreCase` field. */
export const caseInsensitiveMatcherSchema = z
  .strictObject({
    exact: matchValue.optional(),
    prefix: matchValue.optional(),
    suffix: matchValue.optional(),
    contains: matchValue.optional(),
    regex: matchValue.optional(),
  })
  .superRefine((m, ctx) => exactlyOne(m, MATCH_KINDS, ctx));
export type CaseInsensitiveMatcher = z.infer<typeof caseInsensitiveMatcherSchema>;

/** `{ matcher: StringMatcher }`, the wrapper Airlock puts around most matchers. */
export const matcherWrapperSchema = z.strictObject({ matcher: stringMatcherSchema });

/** Go `time.ParseDuration` text as Kubernetes stores `metav1.Duration` (`5s`, `1m30s`, `250ms`). */
export const durationSchema = z.string().min(1).max(64);

/**
 * Checks that exactly one of `keys` is present on an object, for "exactly one of" unions that a strict object
 * with optional members models (the issue lands on the object itself).
 */
export function exactlyOne<T extends object>(value: T, keys: readonly (keyof T & string)[], ctx: z.RefinementCtx<T>): void {
  const set = keys.filter((k) => value[k] !== undefined);
  if (set.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: `exactly one of ${keys.join(', ')} must be set${set.length > 1 ? ` (found ${set.join(', ')})` : ''}`,
    });
  }
}
