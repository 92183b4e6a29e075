import type { Decision, TraceEntry } from '../model/decision.js';
import { deny } from '../model/decision.js';
import type { Identity } from '../model/identity.js';
import type { PolicySnapshot } from '../model/policy.js';
import type { PreparedRequest } from '../model/request.js';
import { evaluatePredicate } from './evaluate-predicate.js';
import { extractFirst } from './extract-token.js';
import { type VerifyDeps, verifyToken } from './verify-token.js';

export type OrderedResult = { readonly kind: 'allow'; readonly rule: string | undefined } | Extract<Decision, { kind: 'deny' }>;

/**
 * First-match policies (Airlock AccessControlPolicy): in every policy whose scope holds, the first entry whose
 * condition holds decides. `authenticate` entries take the token from the first present source, verify it with
 * one of the authenticator's providers (401 otherwise) and then test the claim requirement (403 otherwise).
 */
export async function evaluateOrdered(
  snapshot: PolicySnapshot,
  req: PreparedRequest,
  deps: VerifyDeps,
  trace: TraceEntry[] | undefined,
): Promise<OrderedResult> {
  let rule: string | undefined;
  const identities = new Map<string, Identity>();
  for (const policy of snapshot.orderedPolicies) {
    if (!evaluatePredicate(policy.scope, { request: req, identity: undefined })) continue;
    const entry = policy.entries.find((e) => evaluatePredicate(e.when, { request: req, identity: undefined }));
    if (entry === undefined) {
      trace?.push({ step: 'ordered', message: 'no policy entry matches', data: { policy: policy.name } });
      return policy.unmatchedStatus === 404
        ? asDeny(deny(404, 'no_route', 'no policy matches this request', policy.name))
        : asDeny(deny(403, 'no_allow_rule_matched', 'no policy matches this request', policy.name));
    }
    const where = `${policy.name} ${entry.name}`;
    const outcome = entry.outcome;
    switch (outcome.kind) {
      case 'allow':
        trace?.push({ step: 'ordered', message: 'entry allows without authentication', data: { rule: where } });
        rule ??= where;
        continue;
      case 'deny':
        trace?.push({ step: 'ordered', message: 'entry denies', data: { rule: where } });
        return asDeny(deny(403, 'denied_by_rule', 'access denied', where));
      case 'authenticate': {
        const authenticator = snapshot.authenticators.get(outcome.authenticator);
        if (authenticator === undefined) return asDeny(deny(403, 'internal_error', 'authenticator missing', where)); // compile guarantees it exists
        let identity = identities.get(authenticator.id);
        if (identity === undefined) {
          const found = extractFirst(req, authenticator.sources);
          if (found === undefined) {
            trace?.push({ step: 'extract', message: 'no token found', data: { authenticator: authenticator.name } });
            return asDeny(deny(401, 'token_missing', 'Jwt is missing', where, 'invalid_token'));
          }
          const result = await verifyToken(found.token, authenticator.providers, deps);
          if (!result.ok) {
            trace?.push({ step: 'verify', message: result.message, data: { reason: result.reason, authenticator: authenticator.name } });
            return asDeny(deny(result.status, result.reason, result.message, where, 'invalid_token'));
          }
          identity = result.identity;
          identities.set(authenticator.id, identity);
          trace?.push({ step: 'verify', message: 'token verified', data: { provider: result.provider.id, cached: result.cached } });
        }
        if (!evaluatePredicate(outcome.require, { request: req, identity })) {
          trace?.push({ step: 'ordered', message: 'claim requirements not met', data: { rule: where } });
          return asDeny(deny(403, 'denied_by_rule', 'claim requirements not met', where));
        }
        trace?.push({ step: 'ordered', message: 'entry allows', data: { rule: where } });
        rule ??= where;
        continue;
      }
      default: {
        const never: never = outcome;
        throw new TypeError(`unhandled outcome ${JSON.stringify(never)}`);
      }
    }
  }
  return { kind: 'allow', rule };
}

function asDeny(d: Decision): Extract<Decision, { kind: 'deny' }> {
  if (d.kind !== 'deny') throw new TypeError('expected a denial');
  return d;
}
