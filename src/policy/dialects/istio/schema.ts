import { z } from 'zod';

/**
 * Istio `security.istio.io/v1` and `v1beta1` RequestAuthentication / AuthorizationPolicy, field for field as
 * istio/api security/v1beta1/*.proto (JSON names). Strict: an unknown field is an error with its path.
 */

/** Kubernetes ObjectMeta fields a manifest (or `kubectl get -o yaml`) may carry. */
export const objectMetaSchema = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.unknown().optional(),
  generateName: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(z.unknown()).optional(),
  managedFields: z.array(z.unknown()).optional(),
  deletionTimestamp: z.unknown().optional(),
  deletionGracePeriodSeconds: z.number().optional(),
  selfLink: z.string().optional(),
});

const nonEmpty = z.string().min(1, 'must not be empty');
const stringList = z.array(nonEmpty);

export const workloadSelectorSchema = z.strictObject({ matchLabels: z.record(z.string(), z.string()).optional() });

export const policyTargetReferenceSchema = z.strictObject({
  group: z.string().optional(),
  kind: nonEmpty,
  name: nonEmpty,
  namespace: z.string().optional(),
});

export const jwtHeaderSchema = z.strictObject({ name: nonEmpty, prefix: z.string().optional() });
export const claimToHeaderSchema = z.strictObject({
  header: z.string().regex(/^[-_A-Za-z0-9]+$/, 'header name must match ^[-_A-Za-z0-9]+$'),
  claim: nonEmpty,
});

export const jwtRuleSchema = z.strictObject({
  // REQUIRED in the CRD; an empty string is allowed only with jwksUri (validation.go), checked when compiling.
  issuer: z.string(),
  audiences: stringList.optional(),
  jwksUri: z.string().max(2048).regex(/^https?:\/\//, 'jwksUri must be an http:// or https:// URL').optional(),
  jwks: z.string().optional(),
  fromHeaders: z.array(jwtHeaderSchema).optional(),
  fromParams: stringList.optional(),
  fromCookies: stringList.optional(),
  outputPayloadToHeader: z.string().regex(/^[-_A-Za-z0-9]+$/, 'header name must match ^[-_A-Za-z0-9]+$').optional(),
  forwardOriginalToken: z.boolean().optional(),
  outputClaimToHeaders: z.array(claimToHeaderSchema).optional(),
  timeout: z.string().optional(),
  spaceDelimitedClaims: stringList.max(64).optional(),
});

export const requestAuthenticationSpecSchema = z.strictObject({
  selector: workloadSelectorSchema.optional(),
  targetRef: policyTargetReferenceSchema.optional(),
  targetRefs: z.array(policyTargetReferenceSchema).max(16).optional(),
  jwtRules: z.array(jwtRuleSchema).max(4096).optional(),
});

export const sourceSchema = z.strictObject({
  principals: stringList.optional(),
  notPrincipals: stringList.optional(),
  requestPrincipals: stringList.optional(),
  notRequestPrincipals: stringList.optional(),
  namespaces: stringList.optional(),
  notNamespaces: stringList.optional(),
  serviceAccounts: stringList.max(16).optional(),
  notServiceAccounts: stringList.max(16).optional(),
  trustDomains: stringList.optional(),
  notTrustDomains: stringList.optional(),
  ipBlocks: stringList.optional(),
  notIpBlocks: stringList.optional(),
  remoteIpBlocks: stringList.optional(),
  notRemoteIpBlocks: stringList.optional(),
});

export const operationSchema = z.strictObject({
  hosts: stringList.optional(),
  notHosts: stringList.optional(),
  ports: stringList.optional(),
  notPorts: stringList.optional(),
  methods: stringList.optional(),
  notMethods: stringList.optional(),
  paths: stringList.optional(),
  notPaths: stringList.optional(),
});

export const conditionSchema = z.strictObject({
  key: nonEmpty,
  values: stringList.optional(),
  notValues: stringList.optional(),
});

export const ruleSchema = z.strictObject({
  from: z.array(z.strictObject({ source: sourceSchema })).optional(),
  to: z.array(z.strictObject({ operation: operationSchema })).optional(),
  when: z.array(conditionSchema).optional(),
});

export const authorizationPolicySpecSchema = z.strictObject({
  selector: workloadSelectorSchema.optional(),
  targetRef: policyTargetReferenceSchema.optional(),
  targetRefs: z.array(policyTargetReferenceSchema).max(16).optional(),
  rules: z.array(ruleSchema).optional(),
  action: z.enum(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']).optional(),
  provider: z.strictObject({ name: nonEmpty }).optional(),
});

const apiVersion = z.enum(['security.istio.io/v1', 'security.istio.io/v1beta1']);

export const requestAuthenticationSchema = z.strictObject({
  apiVersion,
  kind: z.literal('RequestAuthentication'),
  metadata: objectMetaSchema,
  spec: requestAuthenticationSpecSchema.default({}),
  status: z.unknown().optional(),
});

export const authorizationPolicySchema = z.strictObject({
  apiVersion,
  kind: z.literal('AuthorizationPolicy'),
  metadata: objectMetaSchema,
  spec: authorizationPolicySpecSchema.default({}),
  status: z.unknown().optional(),
});

export type ObjectMeta = z.infer<typeof objectMetaSchema>;
export type JWTRule = z.infer<typeof jwtRuleSchema>;
export type RequestAuthentication = z.infer<typeof requestAuthenticationSchema>;
export type AuthorizationPolicySpec = z.infer<typeof authorizationPolicySpecSchema>;
export type AuthorizationPolicyDoc = z.infer<typeof authorizationPolicySchema>;
export type Source = z.infer<typeof sourceSchema>;
export type Operation = z.infer<typeof operationSchema>;
export type Condition = z.infer<typeof conditionSchema>;
export type PolicyTargetReference = z.infer<typeof policyTargetReferenceSchema>;
