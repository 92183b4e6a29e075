import { z } from 'zod';
import { durationSchema, exactlyOne, matcherWrapperSchema, metadataSchema, nameRefSchema } from './common-schema.js';

/** `microgateway.airlock.com/v1alpha1` `JWT` (CRD jwts.microgateway.airlock.com, semantics.md §5.2). */

const namedSourceSchema = z.strictObject({ name: z.string().min(1).max(256) });

/** One place to look for the token: exactly one of bearerToken / header / queryParameter / cookie. */
const extractionSourceSchema = z
  .strictObject({
    bearerToken: z.strictObject({}).optional(),
    header: namedSourceSchema.optional(),
    queryParameter: namedSourceSchema.optional(),
    cookie: namedSourceSchema.optional(),
  })
  .superRefine((s, ctx) => exactlyOne(s, ['bearerToken', 'header', 'queryParameter', 'cookie'], ctx));
export type ExtractionSource = z.infer<typeof extractionSourceSchema>;

const requirementSchema = z.strictObject({
  jwksRef: nameRefSchema,
  issuer: z.string().min(1).max(1024).optional(),
  // x-kubernetes-list-type: set ⇒ duplicates are rejected by the API server.
  audiences: z
    .array(z.string().min(1).max(1024))
    .min(1)
    .max(64)
    .refine((a) => new Set(a).size === a.length, 'audiences must be unique')
    .optional(),
  subject: matcherWrapperSchema.optional(),
});
export type JWTRequirement = z.infer<typeof requirementSchema>;

export const jwtSpecSchema = z
  .strictObject({
    extractionSources: z.array(extractionSourceSchema).min(1).max(16).optional(),
    requireAny: z.array(requirementSchema).min(1).max(128),
    // Required by the CRD (no default): the operator must decide whether tokens without `exp` are acceptable.
    expirationRequired: z.boolean(),
    maxLifetime: durationSchema.optional(),
    clockSkewTolerance: durationSchema.default('60s'),
  })
  .superRefine((s, ctx) => {
    if (s.maxLifetime !== undefined && !s.expirationRequired) {
      ctx.addIssue({ code: 'custom', path: ['maxLifetime'], message: 'maxLifetime requires expirationRequired: true' });
    }
  });
export type JWTSpec = z.infer<typeof jwtSpecSchema>;

export const jwtSchema = z.strictObject({
  apiVersion: z.literal('microgateway.airlock.com/v1alpha1'),
  kind: z.literal('JWT'),
  metadata: metadataSchema,
  spec: jwtSpecSchema,
  status: z.unknown().optional(),
});
export type JWT = z.infer<typeof jwtSchema>;
