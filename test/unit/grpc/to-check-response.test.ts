import { describe, expect, it } from 'vitest';
import { deny, type Decision } from '../../../src/model/decision.js';
import { bearerChallenge, toCheckResponse, type CheckResponseMessage } from '../../../src/grpc/to-check-response.js';

const ctx = { requestId: 'req-1', scheme: 'https', host: 'api.test' };

function allow(headersToSet: { name: string; value: string }[], headersToRemove: string[] = [], queryParametersToRemove: string[] = []): Decision {
  return { kind: 'allow', headersToSet, headersToRemove, queryParametersToRemove, principal: undefined, rule: undefined };
}

function headers(resp: CheckResponseMessage): Record<string, string> {
  const list = 'ok_response' in resp ? resp.ok_response.headers : resp.denied_response.headers;
  return Object.fromEntries(list.map((o) => [o.header.key, o.header.value]));
}

describe('toCheckResponse', () => {
  it('allows with overwrite-not-append headers, headers and query parameters to remove', () => {
    const resp = toCheckResponse(allow([{ name: 'x-sub', value: 'alice' }], ['authorization'], ['access_token']), ctx);
    expect(resp).toEqual({
      status: { code: 0, message: '' },
      ok_response: {
        headers: [{ header: { key: 'x-sub', value: 'alice' }, append: { value: false }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
        headers_to_remove: ['authorization'],
        query_parameters_to_remove: ['access_token'],
      },
    });
  });

  it.each([
    { status: 400, grpc: 3 },
    { status: 401, grpc: 16 },
    { status: 403, grpc: 7 },
    { status: 404, grpc: 5 },
  ] as const)('denies $status with gRPC code $grpc and the same HTTP status', ({ status, grpc }) => {
    const resp = toCheckResponse(deny(status, 'denied_by_rule', 'RBAC: access denied'), ctx);
    expect(resp.status.code).toBe(grpc);
    expect('denied_response' in resp && resp.denied_response.status.code).toBe(status);
    expect(headers(resp)['content-type']).toBe('application/json');
  });

  it('answers an out-of-range deny status as 403, never as gRPC OK', () => {
    const bogus = { ...deny(403, 'internal_error', 'x'), status: 500 } as unknown as Decision;
    const resp = toCheckResponse(bogus, ctx);
    expect(resp.status.code).toBe(7);
    expect('denied_response' in resp && resp.denied_response.status.code).toBe(403);
  });

  it('writes a short JSON body with reason, message and request id', () => {
    const resp = toCheckResponse(deny(403, 'no_allow_rule_matched', 'RBAC: access denied'), ctx);
    const body = 'denied_response' in resp ? resp.denied_response.body : '';
    expect(JSON.parse(body)).toEqual({ error: 'no_allow_rule_matched', message: 'RBAC: access denied', request_id: 'req-1' });
  });

  it('sends www-authenticate on a 401 with the decision realm and error', () => {
    const decision = { ...deny(401, 'token_expired', 'Jwt is expired'), realm: 'https://api.test/orders' };
    expect(headers(toCheckResponse(decision, ctx))['www-authenticate']).toBe('Bearer realm="https://api.test/orders", error="invalid_token"');
  });

  it('falls back to scheme://host of the request for the realm', () => {
    expect(headers(toCheckResponse(deny(401, 'token_invalid', 'x'), ctx))['www-authenticate']).toBe('Bearer realm="https://api.test", error="invalid_token"');
    const noScheme = { requestId: '', scheme: '', host: 'h' };
    expect(headers(toCheckResponse(deny(401, 'token_invalid', 'x'), noScheme))['www-authenticate']).toBe('Bearer realm="http://h", error="invalid_token"');
  });

  it('sends www-authenticate on a 403 whose bearerError is set (audience mismatch), not on a plain 403', () => {
    const audience = deny(403, 'audience_mismatch', 'Audiences in Jwt are not allowed', undefined, 'invalid_token');
    expect(headers(toCheckResponse(audience, ctx))['www-authenticate']).toBe('Bearer realm="https://api.test", error="invalid_token"');
    expect(headers(toCheckResponse(deny(403, 'denied_by_rule', 'x'), ctx))['www-authenticate']).toBeUndefined();
  });

  it('sends the realm alone on a 401 without an error code (RFC 6750 §3.1)', () => {
    const d = deny(401, 'token_missing', 'Jwt is missing');
    if (d.kind !== 'deny') throw new TypeError('deny() built an allow');
    const decision: Decision = { ...d, bearerError: undefined };
    expect(headers(toCheckResponse(decision, ctx))['www-authenticate']).toBe('Bearer realm="https://api.test"');
  });

  it.each([
    { realm: 'https://h/a"b', expected: 'Bearer realm="https://h/a\\"b", error="invalid_token"' },
    { realm: 'https://h/a\\b', expected: 'Bearer realm="https://h/a\\\\b", error="invalid_token"' },
    { realm: 'x", error="none', expected: 'Bearer realm="x\\", error=\\"none", error="invalid_token"' },
    { realm: 'https://h/\r\nset-cookie: a=b', expected: 'Bearer error="invalid_token"' },
  ])('escapes or drops a hostile realm: $realm', ({ realm, expected }) => {
    expect(bearerChallenge(realm, 'invalid_token')).toBe(expected);
  });

  it.each([
    { name: 'CR LF', value: 'a\r\nx-injected: 1' },
    { name: 'LF', value: 'a\nb' },
    { name: 'NUL', value: 'a\u0000b' },
    { name: 'DEL', value: 'a\u007fb' },
    { name: 'a lone surrogate', value: 'a\ud800b' },
  ])('drops a header whose value contains $name, keeping the others', ({ value }) => {
    const resp = toCheckResponse(allow([{ name: 'x-bad', value }, { name: 'x-good', value: 'ok\tfine' }]), ctx);
    expect(headers(resp)).toEqual({ 'x-good': 'ok\tfine' });
  });

  it('drops headers with names that are not HTTP tokens, and such names from headers_to_remove', () => {
    const resp = toCheckResponse(allow([{ name: 'x bad', value: 'v' }, { name: 'x\r\ny', value: 'v' }, { name: '', value: 'v' }], ['ok', 'bad\nname']), ctx);
    expect(headers(resp)).toEqual({});
    expect('ok_response' in resp && resp.ok_response.headers_to_remove).toEqual(['ok']);
  });

  it('keeps emoji and other well-formed non-ASCII values', () => {
    expect(headers(toCheckResponse(allow([{ name: 'x-name', value: 'Zoë 🙂' }]), ctx))).toEqual({ 'x-name': 'Zoë 🙂' });
  });

  it('escapes the body as JSON whatever the request id holds', () => {
    const resp = toCheckResponse(deny(403, 'denied_by_rule', 'x'), { ...ctx, requestId: '"}\n{"error":"allow' });
    const body = 'denied_response' in resp ? resp.denied_response.body : '';
    expect(body).not.toContain('\n');
    expect((JSON.parse(body) as { request_id: string }).request_id).toBe('"}\n{"error":"allow');
  });
});
