import { z } from 'zod';
import { durationSchema, exactlyOne, metadataSchema, nameRefSchema } from './common-schema.js';

/**
 * `microgateway.airlock.com/v1alpha1` `JWKS` (CRD jwks.microgateway.airlock.com, semantics.md §5.1).
 * Outside Kubernetes a Secret is a folder: `local.secretRef.name: idp-keys` reads `.secrets/idp-keys/jwks.json`
 * next to the document; `local.jwksFile` (our extension) names the file directly, relative to the document.
 */

const emptySchema = z.strictObject({});

/** A CA certificate: the Secret's `ca.crt` (as `.secrets/<name>/ca.crt`) or, our extension, a PEM file path. */
const trustedCertificateSchema = z
  .strictObject({ secretRef: nameRefSchema.optional(), file: z.string().min(1).optional() })
  .superRefine((c, ctx) => exactlyOne(c, ['secretRef', 'file'], ctx));

const customVerificationSchema = z.strictObject({
  trustedCA: z
    .strictObject({
      certificates: z.array(trustedCertificateSchema).min(1).max(16),
      verificationDepth: z.int().min(0).default(1),
    })
    .optional(),
  // Accepted so the compiler can say why they are refused (not silently weaker TLS).
  allowedSANs: z.array(z.unknown()).optional(),
  certificatePinning: z.unknown().optional(),
  crl: z.unknown().optional(),
});

const certificateVerificationSchema = z
  .strictObject({
    publicCAs: emptySchema.optional(),
    disabled: emptySchema.optional(),
    custom: customVerificationSchema.optional(),
  })
  .superRefine((v, ctx) => exactlyOne(v, ['publicCAs', 'disabled', 'custom'], ctx));

const tlsSchema = z.strictObject({
  certificateVerification: certificateVerificationSchema.optional(),
  ciphers: z.array(z.string()).min(1).optional(),
  protocol: z
    .strictObject({
      minimum: z.enum(['TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3']).optional(),
      maximum: z.enum(['TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3']).optional(),
    })
    .optional(),
});

const remoteSchema = z.strictObject({
  uri: z
    .string()
    .min(1)
    .max(2048)
    .regex(/^(http|https):\/\/.+$/, 'must start with http:// or https://'),
  timeouts: z
    .strictObject({ connect: durationSchema.default('5s'), maxDuration: durationSchema.default('15s') })
    .default({ connect: '5s', maxDuration: '15s' }),
  tls: tlsSchema.optional(),
});

const localSchema = z
  .strictObject({ secretRef: nameRefSchema.optional(), jwksFile: z.string().min(1).optional() })
  .superRefine((l, ctx) => exactlyOne(l, ['secretRef', 'jwksFile'], ctx));

export const jwksSpecSchema = z.strictObject({
  provider: z
    .strictObject({ local: localSchema.optional(), remote: remoteSchema.optional() })
    .superRefine((p, ctx) => exactlyOne(p, ['local', 'remote'], ctx)),
});
export type JWKSSpec = z.infer<typeof jwksSpecSchema>;
export type JWKSRemote = z.infer<typeof remoteSchema>;
export type JWKSLocal = z.infer<typeof localSchema>;

export const jwksSchema = z.strictObject({
  apiVersion: z.literal('microgateway.airlock.com/v1alpha1'),
  kind: z.literal('JWKS'),
  metadata: metadataSchema,
  spec: jwksSpecSchema,
  status: z.unknown().optional(),
});
export type JWKS = z.infer<typeof jwksSchema>;
