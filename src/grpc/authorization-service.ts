import { performance } from 'node:perf_hooks';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { deny, type Decision } from '../model/decision.js';
import type { RequestAttributes } from '../model/request.js';
import { toCheckResponse, type CheckResponseMessage } from './to-check-response.js';
import { toRequestAttributes } from './to-request-attributes.js';

/** The decision engine the Check handler calls (the real one is wired in by main.ts). */
export interface CheckHandler {
  /**
   * Decides one request. `deadlineMs` is an absolute time on the `Date.now()` scale by which the answer must be
   * ready: the call deadline minus 35 ms, capped at `maxDecisionMs` from now (never Infinity). Anything waiting
   * (a JWKS fetch) should give up at that time; a decision still missing 10 ms later is replaced by an
   * `internal_error` denial.
   */
  decide(request: RequestAttributes, deadlineMs: number): Promise<Decision>;
}

/** Status Envoy and we use for faults (`status_on_error`). */
export type ErrorStatus = Extract<Decision, { kind: 'deny' }>['status'];

export interface AuthorizationServiceOptions {
  readonly handler: CheckHandler;
  readonly logger: Logger;
  /** Status for internal errors and timeouts (default 403, Envoy's `status_on_error` default). */
  readonly statusOnError?: ErrorStatus;
  /** Upper bound for one decision, also when the call has no deadline (default 5000 ms). */
  readonly maxDecisionMs?: number;
  /** Called once per answered Check, after the response is sent (metrics, the decision log line). */
  readonly onDecision?: (decision: Decision, durationMs: number, request: RequestAttributes | undefined) => void;
}

/** Time kept back from the caller's deadline so the answer is on the wire before Envoy gives up (security.md §3.1). */
export const DEADLINE_MARGIN_MS = 25;

/**
 * The handler's deadline is this much earlier than our hard cut-off, so a handler that stops waiting at its
 * deadline (a slow JWKS ⇒ 401 `jwks_unavailable`, security.md §3.2) wins the race against our internal_error.
 */
export const HANDLER_MARGIN_MS = 10;

type CheckCall = ServerUnaryCall<unknown, CheckResponseMessage>;

/** The `envoy.service.auth.v3.Authorization` implementation for grpc-js `addService`. */
export function createAuthorizationService(options: AuthorizationServiceOptions): {
  Check: (call: CheckCall, callback: sendUnaryData<CheckResponseMessage>) => void;
} {
  const { handler, logger, statusOnError = 403, maxDecisionMs = 5000, onDecision } = options;

  const internalError = (): Decision => deny(statusOnError, 'internal_error', 'internal error');

  async function decide(request: RequestAttributes, call: CheckCall, started: number): Promise<Decision> {
    const budget = Math.min(remainingMs(call.getDeadline(), started) - DEADLINE_MARGIN_MS, maxDecisionMs);
    if (!(budget > 0)) {
      logger.error({ requestId: request.requestId, budgetMs: budget }, 'check deadline already passed');
      return internalError();
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, budget, 'timeout');
    });
    // Fail closed, in-band (security.md §3.1 rules 1-2): a throw or a decision that is late becomes a denial,
    // never a gRPC error (which a fail-open Envoy would let through).
    const pending = Promise.resolve()
      .then(() => handler.decide(request, started + Math.max(0, budget - HANDLER_MARGIN_MS)))
      .then(
        (decision) => ({ decision }),
        (err: unknown) => ({ err }),
      );
    try {
      const outcome = await Promise.race([pending, timeout]);
      if (outcome === 'timeout') {
        logger.error({ requestId: request.requestId, budgetMs: budget }, 'decision timed out');
        return internalError();
      }
      if ('err' in outcome) {
        logger.error({ requestId: request.requestId, err: describeError(outcome.err) }, 'decision failed');
        return internalError();
      }
      return outcome.decision;
    } finally {
      clearTimeout(timer);
    }
  }

  function Check(call: CheckCall, callback: sendUnaryData<CheckResponseMessage>): void {
    const started = Date.now();
    const startedPerf = performance.now();
    let request: RequestAttributes | undefined;
    const answer = (decision: Decision): void => {
      let response: CheckResponseMessage;
      try {
        response = toCheckResponse(decision, request ?? { requestId: '', scheme: '', host: '' });
      } catch (err) {
        logger.error({ requestId: request?.requestId, err: describeError(err) }, 'response conversion failed');
        decision = internalError();
        response = toCheckResponse(decision, { requestId: request?.requestId ?? '', scheme: '', host: '' });
      }
      callback(null, response);
      if (onDecision !== undefined) {
        try {
          onDecision(decision, performance.now() - startedPerf, request);
        } catch (err) {
          logger.error({ requestId: request?.requestId, err: describeError(err) }, 'decision hook failed');
        }
      }
    };
    try {
      request = toRequestAttributes(call.request);
    } catch (err) {
      logger.error({ err: describeError(err) }, 'check request conversion failed');
      answer(internalError());
      return;
    }
    if (request === undefined) {
      // security.md §3.1 rule 3: a CheckRequest without attributes.request.http cannot be decided.
      answer(deny(400, 'malformed_request', 'check request has no http attributes'));
      return;
    }
    decide(request, call, started).then(answer, (err: unknown) => {
      logger.error({ requestId: request?.requestId, err: describeError(err) }, 'check failed');
      answer(internalError());
    });
  }

  return { Check };
}

/** Milliseconds left until a grpc-js deadline (Date or ms timestamp; Infinity when the call has none). */
function remainingMs(deadline: Date | number, now: number): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at - now : Infinity;
}

/**
 * What we log about an error: name, code, message and stack only. Never the object itself: jose's claim errors
 * carry the whole claim set in `.payload` and `.cause` (security.md §3.7).
 */
function describeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, ...(typeof code === 'string' ? { code } : {}), message: err.message, stack: err.stack };
}
