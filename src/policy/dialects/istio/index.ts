import type { AuthorizationPolicy, WorkloadAuthn } from '../../../model/policy.js';
import type { ConfigIssue } from '../../config-issue.js';
import { zodIssues } from '../../matchers.js';
import type { CompileContext, CompileResult, Dialect } from '../types.js';
import { compileRequestAuthentication } from './compile-authn.js';
import { compileAuthorizationPolicy } from './compile-authz.js';
import { authorizationPolicySchema, requestAuthenticationSchema } from './schema.js';

const API_VERSIONS = new Set(['security.istio.io/v1', 'security.istio.io/v1beta1']);
const KINDS = new Set(['RequestAuthentication', 'AuthorizationPolicy']);

/** Istio RequestAuthentication + AuthorizationPolicy (`security.istio.io/v1`, `v1beta1`). */
export const istioDialect: Dialect = {
  name: 'istio',
  handles: (apiVersion, kind) => API_VERSIONS.has(apiVersion) && KINDS.has(kind),
  compile(documents, context: CompileContext): CompileResult {
    const issues: ConfigIssue[] = [];
    const workloadAuthn: WorkloadAuthn[] = [];
    const authorizationPolicies: AuthorizationPolicy[] = [];
    for (const doc of documents) {
      if (doc.kind === 'RequestAuthentication') {
        const parsed = requestAuthenticationSchema.safeParse(doc.body);
        if (!parsed.success) issues.push(...zodIssues(doc, parsed.error));
        else workloadAuthn.push(...compileRequestAuthentication(doc, parsed.data, context, issues));
      } else {
        const parsed = authorizationPolicySchema.safeParse(doc.body);
        if (!parsed.success) issues.push(...zodIssues(doc, parsed.error));
        else {
          const p = compileAuthorizationPolicy(doc, parsed.data, context, issues);
          if (p !== undefined) authorizationPolicies.push(p);
        }
      }
    }
    return { fragment: { workloadAuthn, authorizationPolicies, authenticators: [], orderedPolicies: [] }, issues };
  },
};
