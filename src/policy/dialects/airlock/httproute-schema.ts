import { z } from 'zod';
import { metadataSchema } from './common-schema.js';

/**
 * Gateway API `HTTPRoute` (`gateway.networking.k8s.io/v1` and `v1beta1`, apis/v1/httproute_types.go), read only
 * for what selects requests: `parentRefs`, `hostnames` and `rules[].matches`. Filters, backends, timeouts and
 * retries are routing concerns and accepted as they are.
 */

/** Gateway API `Hostname`: RFC 1123, lower case, optionally `*.` as the whole first label; no IPs. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** RFC 7230 token (`HTTPHeaderName`). */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
/** Characters an Exact / PathPrefix value may hold (HTTPPathMatch CEL rule). */
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

const pathMatchSchema = z
  .strictObject({
    type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'),
    value: z.string().max(1024).default('/'),
  })
  .superRefine((p, ctx) => {
    if (p.type === 'RegularExpression') return;
    // The HTTPPathMatch CEL rules, in the order the CRD lists them.
    const v = p.value;
    const problems: [boolean, string][] = [
      [!v.startsWith('/'), "value must be an absolute path and start with '/'"],
      [v.includes('//'), "must not contain '//'"],
      [v.includes('/./'), "must not contain '/./'"],
      [v.includes('/../'), "must not contain '/../'"],
      [v.includes('%2f') || v.includes('%2F'), "must not contain '%2f' or '%2F'"],
      [v.includes('#'), "must not contain '#'"],
      [v.endsWith('/..') || v.endsWith('/.'), "must not end with '/..' or '/.'"],
      [!PATH_CHARS.test(v), 'must only contain valid path characters'],
    ];
    for (const [bad, message] of problems) if (bad) ctx.addIssue({ code: 'custom', path: ['value'], message });
  });
export type HTTPPathMatch = z.infer<typeof pathMatchSchema>;

const headerMatchSchema = z.strictObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: z.string().min(1).max(256).regex(HEADER_NAME, 'must be an HTTP header name'),
  value: z.string().min(1).max(4096),
});
export type HTTPHeaderMatch = z.infer<typeof headerMatchSchema>;

const queryParamMatchSchema = z.strictObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: z.string().min(1).max(256).regex(HEADER_NAME, 'must be a query parameter name'),
  value: z.string().min(1).max(1024),
});
export type HTTPQueryParamMatch = z.infer<typeof queryParamMatchSchema>;

const routeMatchSchema = z.strictObject({
  path: pathMatchSchema.default({ type: 'PathPrefix', value: '/' }),
  headers: z.array(headerMatchSchema).max(16).optional(),
  queryParams: z.array(queryParamMatchSchema).max(16).optional(),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']).optional(),
});
export type HTTPRouteMatch = z.infer<typeof routeMatchSchema>;

const routeRuleSchema = z.strictObject({
  name: z.string().min(1).max(253).optional(),
  matches: z.array(routeMatchSchema).max(64).default([{ path: { type: 'PathPrefix', value: '/' } }]),
  filters: z.array(z.unknown()).max(16).optional(),
  backendRefs: z.array(z.unknown()).max(16).optional(),
  timeouts: z.unknown().optional(),
  retry: z.unknown().optional(),
  sessionPersistence: z.unknown().optional(),
});
export type HTTPRouteRule = z.infer<typeof routeRuleSchema>;

const parentRefSchema = z.strictObject({
  group: z.string().max(253).default('gateway.networking.k8s.io'),
  kind: z.string().min(1).max(63).default('Gateway'),
  namespace: z.string().min(1).max(63).optional(),
  name: z.string().min(1).max(253),
  sectionName: z.string().min(1).max(253).optional(),
  port: z.int().min(1).max(65535).optional(),
});
export type ParentReference = z.infer<typeof parentRefSchema>;

export const httpRouteSpecSchema = z
  .strictObject({
    parentRefs: z.array(parentRefSchema).max(32).optional(),
    hostnames: z.array(z.string().min(1).max(253).regex(HOSTNAME, 'must be a lower-case hostname, optionally starting with "*."')).max(16).optional(),
    rules: z
      .array(routeRuleSchema)
      .min(1)
      .max(16)
      .default([{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]),
  })
  .superRefine((s, ctx) => {
    const total = s.rules.reduce((n, r) => n + r.matches.length, 0);
    if (total > 128) ctx.addIssue({ code: 'custom', path: ['rules'], message: 'the total number of matches across all rules must be at most 128' });
    const names = s.rules.flatMap((r) => (r.name === undefined ? [] : [r.name]));
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['rules'], message: 'Rule name must be unique within the route' });
  });
export type HTTPRouteSpec = z.infer<typeof httpRouteSpecSchema>;

export const httpRouteSchema = z.strictObject({
  apiVersion: z.enum(['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1']),
  kind: z.literal('HTTPRoute'),
  metadata: metadataSchema,
  spec: httpRouteSpecSchema,
  status: z.unknown().optional(),
});
export type HTTPRoute = z.infer<typeof httpRouteSchema>;
