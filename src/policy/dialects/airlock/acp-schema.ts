import { z } from 'zod';
import {
  caseInsensitiveMatcherSchema,
  exactlyOne,
  matcherWrapperSchema,
  metadataSchema,
  nameRefSchema,
} from './common-schema.js';

/**
 * `microgateway.airlock.com/v1alpha1` `AccessControlPolicy` (CRD accesscontrolpolicies.microgateway.airlock.com,
 * semantics.md §5.3). Parts we cannot enforce (OIDC, token exchange, identity propagation, client certificates)
 * are parsed as `unknown` so the compiler can refuse them by name instead of reporting an unknown field.
 */

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE'] as const;

const CONDITION_FIELDS = ['path', 'header', 'method', 'remoteIP', 'mediaType'] as const;

const requestConditionsSchema = z
  .strictObject({
    path: matcherWrapperSchema.optional(),
    header: z
      .strictObject({
        name: z.strictObject({ matcher: caseInsensitiveMatcherSchema }).optional(),
        value: matcherWrapperSchema.optional(),
      })
      .optional(),
    method: z
      .array(z.enum(METHODS))
      .max(16)
      .refine((m) => new Set(m).size === m.length, 'methods must be unique')
      .optional(),
    remoteIP: z
      .strictObject({
        cidrRanges: z
          .array(z.string().min(1).max(49))
          .min(1)
          .max(1024)
          .refine((c) => new Set(c).size === c.length, 'cidrRanges must be unique'),
        invert: z.boolean().default(false),
      })
      .optional(),
    mediaType: z.strictObject({ matcher: caseInsensitiveMatcherSchema }).optional(),
    invert: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (!CONDITION_FIELDS.some((k) => c[k] !== undefined)) {
      ctx.addIssue({ code: 'custom', message: `set at least one of ${CONDITION_FIELDS.join(', ')}` });
    }
  });
export type RequestConditions = z.infer<typeof requestConditionsSchema>;

/** One `requireAll` / `requireAny` item: exactly one of jwt / oidc / tokenExchange / clientCertificate. */
const claimConditionSchema = z
  .strictObject({
    jwt: z
      .strictObject({
        claim: z.strictObject({ name: z.string().min(1).max(256), value: matcherWrapperSchema.optional() }),
      })
      .optional(),
    oidc: z.unknown().optional(),
    tokenExchange: z.unknown().optional(),
    clientCertificate: z.unknown().optional(),
  })
  .superRefine((c, ctx) => exactlyOne(c, ['jwt', 'oidc', 'tokenExchange', 'clientCertificate'], ctx));
export type ClaimCondition = z.infer<typeof claimConditionSchema>;

const authorizationSchema = z.strictObject({
  authentication: z
    .strictObject({ jwt: z.strictObject({ jwtRef: nameRefSchema }).optional(), oidc: z.unknown().optional() })
    .superRefine((a, ctx) => exactlyOne(a, ['jwt', 'oidc'], ctx))
    .optional(),
  deny: z.strictObject({}).optional(),
  requireAll: z.array(claimConditionSchema).min(1).max(64).optional(),
  requireAny: z.array(claimConditionSchema).min(1).max(64).optional(),
  ensured: z.unknown().optional(),
});
export type Authorization = z.infer<typeof authorizationSchema>;

const accessPolicySchema = z.strictObject({
  requestConditions: requestConditionsSchema.optional(),
  authorization: authorizationSchema,
  identityPropagation: z.unknown().optional(),
  tokenExchange: z.unknown().optional(),
});
export type AccessPolicy = z.infer<typeof accessPolicySchema>;

const targetRefSchema = z.strictObject({
  group: z.string().max(253),
  kind: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
});
export type TargetRef = z.infer<typeof targetRefSchema>;

export const accessControlPolicySpecSchema = z.strictObject({
  targetRefs: z.array(targetRefSchema).min(1).max(16),
  policies: z.array(accessPolicySchema).min(1).max(128),
});
export type AccessControlPolicySpec = z.infer<typeof accessControlPolicySpecSchema>;

export const accessControlPolicySchema = z.strictObject({
  apiVersion: z.literal('microgateway.airlock.com/v1alpha1'),
  kind: z.literal('AccessControlPolicy'),
  metadata: metadataSchema,
  spec: accessControlPolicySpecSchema,
  status: z.unknown().optional(),
});
export type AccessControlPolicy = z.infer<typeof accessControlPolicySchema>;
