import type { Decision, TraceEntry } from '../model/decision.js';
import { deny } from '../model/decision.js';
import type { AuthorizationPolicy } from '../model/policy.js';
import { type EvalContext, evaluatePredicate } from './evaluate-predicate.js';

/** Result of the set-semantics layer: allowed (with the rule that allowed, if any) or a denial. */
export type AuthorizationResult = { readonly allowed: true; readonly rule: string | undefined } | { readonly allowed: false; readonly decision: Decision };

/**
 * Istio AuthorizationPolicy evaluation (semantics §2.1): any matching DENY ⇒ 403; no ALLOW policy applying ⇒ allow;
 * an ALLOW policy matching ⇒ allow; otherwise 403. AUDIT and dry-run policies are traced, never enforced.
 */
export function evaluateAuthorization(
  policies: readonly AuthorizationPolicy[],
  ctx: EvalContext,
  trace: TraceEntry[] | undefined,
): AuthorizationResult {
  let allowApplies = false;
  let allowStatus: 403 | 404 = 404;
  let allowedBy: string | undefined;
  // DENY first: a DENY match wins whatever the ALLOW policies say.
  for (const p of policies) {
    if (p.action !== 'DENY' || !evaluatePredicate(p.scope, ctx)) continue;
    const rule = firstMatch(p, ctx);
    if (rule === undefined) continue;
    if (p.dryRun) {
      trace?.push({ step: 'authorize', message: 'dry-run DENY policy would deny', data: { policy: p.name, rule } });
      continue;
    }
    trace?.push({ step: 'authorize', message: 'DENY policy matched', data: { policy: p.name, rule } });
    return { allowed: false, decision: deny(403, 'denied_by_rule', 'RBAC: access denied', `${p.name} ${rule}`) };
  }
  for (const p of policies) {
    if (p.action === 'DENY' || !evaluatePredicate(p.scope, ctx)) continue;
    const rule = firstMatch(p, ctx);
    if (p.action === 'AUDIT') {
      if (rule !== undefined) trace?.push({ step: 'authorize', message: 'AUDIT policy matched (no effect)', data: { policy: p.name, rule } });
      continue;
    }
    if (p.dryRun) {
      trace?.push({ step: 'authorize', message: `dry-run ALLOW policy ${rule === undefined ? 'did not match' : 'matched'}`, data: { policy: p.name } });
      continue;
    }
    allowApplies = true;
    if (p.unmatchedStatus === 403) allowStatus = 403;
    if (rule !== undefined && allowedBy === undefined) {
      allowedBy = `${p.name} ${rule}`;
      if (trace === undefined) break; // the answer is known; only a trace wants the remaining policies
      trace.push({ step: 'authorize', message: 'ALLOW policy matched', data: { policy: p.name, rule } });
    }
  }
  if (!allowApplies) {
    trace?.push({ step: 'authorize', message: 'no ALLOW policy applies: allowed' });
    return { allowed: true, rule: undefined };
  }
  if (allowedBy !== undefined) return { allowed: true, rule: allowedBy };
  trace?.push({ step: 'authorize', message: 'ALLOW policies apply but none matched' });
  // 404 only when every applying ALLOW policy asks for it (Kyma's "no route" outcome).
  return allowStatus === 404
    ? { allowed: false, decision: deny(404, 'no_route', 'no rule matches this method and path') }
    : { allowed: false, decision: deny(403, 'no_allow_rule_matched', 'RBAC: access denied') };
}

function firstMatch(p: AuthorizationPolicy, ctx: EvalContext): string | undefined {
  for (const r of p.rules) if (evaluatePredicate(r.when, ctx)) return r.name;
  return undefined;
}
