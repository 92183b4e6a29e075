import type { Decision } from '../model/decision.js';

/** google.rpc.Code values we answer with (semantics §3.4: any non-zero code is a denial). */
export const GRPC_CODE_FOR_STATUS = Object.freeze({ 400: 3, 401: 16, 403: 7, 404: 5 } as const);

/** `envoy.config.core.v3.HeaderValueOption` as we emit it. */
export interface HeaderValueOptionMessage {
  readonly header: { readonly key: string; readonly value: string };
  readonly append: { readonly value: boolean };
  readonly append_action: 'OVERWRITE_IF_EXISTS_OR_ADD';
}

/** `envoy.service.auth.v3.CheckResponse` as we emit it (snake_case field names, for proto-loader with keepCase). */
export type CheckResponseMessage =
  | {
      readonly status: { readonly code: 0; readonly message: string };
      readonly ok_response: {
        readonly headers: readonly HeaderValueOptionMessage[];
        readonly headers_to_remove: readonly string[];
        readonly query_parameters_to_remove: readonly string[];
      };
    }
  | {
      readonly status: { readonly code: 3 | 5 | 7 | 16; readonly message: string };
      readonly denied_response: {
        readonly status: { readonly code: number };
        readonly headers: readonly HeaderValueOptionMessage[];
        readonly body: string;
      };
    };

/** What the response needs from the request: the id for the body and the realm fallback. */
export interface ResponseContext {
  readonly requestId: string;
  readonly scheme: string;
  readonly host: string;
}

/** Decision → CheckResponse. Never emits a header whose name or value could break the HTTP message. */
export function toCheckResponse(decision: Decision, context: ResponseContext): CheckResponseMessage {
  if (decision.kind === 'allow') {
    const headers: HeaderValueOptionMessage[] = [];
    for (const h of decision.headersToSet) pushHeader(headers, h.name, h.value);
    return {
      status: { code: 0, message: '' },
      ok_response: {
        headers,
        headers_to_remove: decision.headersToRemove.filter(isHeaderName),
        query_parameters_to_remove: decision.queryParametersToRemove.filter(isSafeValue),
      },
    };
  }
  const headers: HeaderValueOptionMessage[] = [];
  pushHeader(headers, 'content-type', 'application/json');
  if (decision.status === 401 || decision.bearerError !== undefined) {
    const realm = decision.realm ?? `${context.scheme === '' ? 'http' : context.scheme}://${context.host}`;
    pushHeader(headers, 'www-authenticate', bearerChallenge(realm, decision.bearerError));
  }
  // security.md §1.7: the body names the reason enum and the request id, never a token, claim or key.
  const body = JSON.stringify({ error: decision.reason, message: decision.message, request_id: context.requestId });
  // Fail closed: a status outside the table (a bug upstream of here) must never become code 0, which is an allow.
  const known = Object.hasOwn(GRPC_CODE_FOR_STATUS, decision.status);
  return {
    status: { code: known ? GRPC_CODE_FOR_STATUS[decision.status] : 7, message: decision.reason },
    denied_response: { status: { code: known ? decision.status : 403 }, headers, body },
  };
}

/**
 * RFC 6750 §3: `Bearer realm="…", error="…"`; the realm is a quoted-string (RFC 9110 §5.6.4), so `"` and `\` are
 * escaped. A realm that is no valid field value (CR/LF from a hostile host) is left out rather than emitted.
 * Without an error code (RFC 6750 §3.1: the request had no credentials) only the realm is sent.
 */
export function bearerChallenge(realm: string, error: string | undefined): string {
  const params: string[] = [];
  if (isSafeValue(realm)) params.push(`realm="${realm.replace(/["\\]/g, '\\$&')}"`);
  if (error !== undefined) params.push(`error="${error}"`);
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

function pushHeader(out: HeaderValueOptionMessage[], key: string, value: string): void {
  // Header injection guard (security.md §1.7, Envoy CVE-2023-27493): Envoy does not validate mutations by
  // default, so a value with CR/LF/NUL would reach the upstream or the client as is. Such a header is dropped.
  if (!isHeaderName(key) || !isSafeValue(value)) return;
  // semantics §0.13: Envoy versions disagree on which field wins; both say "set, don't append".
  out.push({ header: { key, value }, append: { value: false }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
}

// RFC 9110 §5.6.2 token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// C0 controls except HTAB, DEL, and lone surrogates (not well-formed Unicode, cannot be encoded faithfully).
const UNSAFE = /[\u0000-\u0008\u000A-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

function isSafeValue(value: string): boolean {
  return !UNSAFE.test(value);
}
