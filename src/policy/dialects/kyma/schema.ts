import { z } from 'zod';

/**
 * Kyma API Gateway `APIRule` (`gateway.kyma-project.io/v2` and `v2alpha1`, same fields) as the CRD and
 * `apis/gateway/v2/apirule_types.go` define it (semantics §4.1). Strict: an unknown field is an issue.
 * Fields that only steer routing (service, gateway, timeouts, CORS, request mutators) are validated and ignored.
 */

export const API_GROUP = 'gateway.kyma-project.io';
export const SUPPORTED_VERSIONS = ['v2', 'v2alpha1'] as const;

/** apirule_types.go HttpMethod enum (RFC 9110 + RFC 5789). */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

// CRD `rules[].path` pattern: pchar segments, whole-segment `{*}` / `{**}`, or exactly `/*`.
const PATH_PATTERN = /^((\/([A-Za-z0-9\-._~!$&'()+,;=:@]|%[0-9a-fA-F]{2})*)|(\/\{\*{1,2}\}))+$|^\/\*$/;
// CRD `Host`: lower-case RFC 1123 label or FQDN; Kyma ≥ 2.x also accepts a leading `*.` wildcard label.
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_PATTERN = new RegExp(`^(?:\\*\\.)?${LABEL}(?:(?:\\.${LABEL})*(?:\\.[a-z0-9]{2,63}))?$`);
const GATEWAY_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\/([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/;
// RFC 9110 §5.1 field-name token.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const nonEmpty = z.string().min(1, 'must not be empty');

const serviceSchema = z.strictObject({
  name: nonEmpty,
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lower-case RFC 1123 label').optional(),
  port: z.number().int().min(1).max(65535),
  external: z.boolean().optional(),
});

const timeoutSchema = z.number().int().min(1).max(3900);

const stringMatchSchema = z.partialRecord(z.enum(['exact', 'prefix', 'regex']), z.string());

const corsPolicySchema = z.strictObject({
  allowHeaders: z.array(z.string()).optional(),
  allowMethods: z.array(z.string()).optional(),
  allowOrigins: z.array(stringMatchSchema).optional(),
  allowCredentials: z.boolean().optional(),
  exposeHeaders: z.array(z.string()).optional(),
  maxAge: z.number().int().min(1).optional(),
});

export const jwtHeaderSchema = z.strictObject({
  name: z.string().regex(HEADER_NAME, 'must be a valid HTTP header name'),
  prefix: z.string().optional(),
});

export const jwtAuthenticationSchema = z.strictObject({
  issuer: z.string(),
  jwksUri: z.string().max(2048),
  fromHeaders: z.array(jwtHeaderSchema).optional(),
  fromParams: z.array(nonEmpty).optional(),
  /** The spelling Kyma's JWT guide uses (seed 000); not a CRD field. Accepted as an alias of `fromParams`. */
  fromParameters: z.array(nonEmpty).optional(),
});
export type JwtAuthentication = z.infer<typeof jwtAuthenticationSchema>;

export const jwtAuthorizationSchema = z.strictObject({
  requiredScopes: z.array(z.string()).optional(),
  audiences: z.array(z.string()).optional(),
});
export type JwtAuthorization = z.infer<typeof jwtAuthorizationSchema>;

export const jwtConfigSchema = z.strictObject({
  authentications: z.array(jwtAuthenticationSchema).optional(),
  authorizations: z.array(jwtAuthorizationSchema).optional(),
});
export type JwtConfig = z.infer<typeof jwtConfigSchema>;

const extAuthSchema = z.strictObject({
  authorizers: z.array(z.string()),
  restrictions: jwtConfigSchema.optional(),
});

export const ruleSchema = z.strictObject({
  path: z.string().regex(PATH_PATTERN, 'must be an exact path, may use {*} and {**} as whole segments, or be /*'),
  service: serviceSchema.optional(),
  methods: z.array(z.enum(HTTP_METHODS)).min(1, 'at least one method is required'),
  noAuth: z.boolean().optional(),
  jwt: jwtConfigSchema.optional(),
  extAuth: extAuthSchema.optional(),
  timeout: timeoutSchema.optional(),
  request: z
    .strictObject({
      headers: z.record(z.string(), z.string()).optional(),
      cookies: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});
export type Rule = z.infer<typeof ruleSchema>;

export const apiRuleSpecSchema = z.strictObject({
  hosts: z
    .array(z.string().max(255).regex(HOST_PATTERN, 'must be a lower-case FQDN, *.FQDN or RFC 1123 label'))
    .min(1, 'exactly one host is required')
    .max(1, 'exactly one host is allowed'),
  service: serviceSchema.optional(),
  gateway: z.string().max(127).regex(GATEWAY_PATTERN, 'must be in the namespace/name format').optional(),
  externalGateway: z.record(z.string(), z.unknown()).optional(),
  corsPolicy: corsPolicySchema.optional(),
  rules: z.array(ruleSchema).min(1, 'at least one rule is required'),
  timeout: timeoutSchema.optional(),
});
export type APIRuleSpec = z.infer<typeof apiRuleSpecSchema>;

export const apiRuleSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('APIRule'),
  // Kubernetes metadata carries much more (labels, uid, …): only name and namespace matter here.
  metadata: z.looseObject({ name: nonEmpty, namespace: z.string().optional() }),
  spec: apiRuleSpecSchema,
  // `kubectl get -o yaml` output carries the controller's status: ignored.
  status: z.unknown().optional(),
});
export type APIRule = z.infer<typeof apiRuleSchema>;
