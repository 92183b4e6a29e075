import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckHandler } from '../../../src/grpc/authorization-service.js';
import { startGrpcServer, type GrpcServer } from '../../../src/grpc/server.js';
import { deny, type Decision } from '../../../src/model/decision.js';
import type { RequestAttributes } from '../../../src/model/request.js';
import {
  bodyOf,
  checkRequest,
  createAuthzClient,
  headerOf,
  headerOptionsOf,
  headersToRemove,
  httpStatusOf,
  type AuthzClient,
} from '../../helpers/upstream-client.js';
import { captureLogger } from './capture-logger.js';

/** A CheckHandler whose behaviour each test sets; it records what it was asked. */
class FakeHandler implements CheckHandler {
  behaviour: (request: RequestAttributes, deadlineMs: number) => Promise<Decision> = () => Promise.resolve(allowDecision());
  readonly calls: { request: RequestAttributes; deadlineMs: number; at: number }[] = [];
  decide(request: RequestAttributes, deadlineMs: number): Promise<Decision> {
    this.calls.push({ request, deadlineMs, at: Date.now() });
    return this.behaviour(request, deadlineMs);
  }
}

function allowDecision(headersToSet: { name: string; value: string }[] = [], headersToRemove: string[] = []): Decision {
  return { kind: 'allow', headersToSet, headersToRemove, queryParametersToRemove: [], principal: 'iss/alice', rule: 'r1' };
}

const never = (): Promise<Decision> => new Promise<Decision>(() => undefined);

async function start(handler: CheckHandler, extra: { statusOnError?: 401 | 403; maxDecisionMs?: number } = {}) {
  const log = captureLogger();
  const decisions: { decision: Decision; durationMs: number; request: RequestAttributes | undefined }[] = [];
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    handler,
    logger: log.logger,
    readiness: () => true,
    onDecision: (decision, durationMs, request) => void decisions.push({ decision, durationMs, request }),
    ...extra,
  });
  return { server, client: createAuthzClient(server.port), log, decisions };
}

describe('Check over gRPC with a fake handler', () => {
  const handler = new FakeHandler();
  let ctx: Awaited<ReturnType<typeof start>>;
  let server: GrpcServer;
  let client: AuthzClient;

  beforeAll(async () => {
    ctx = await start(handler);
    ({ server, client } = ctx);
  });
  afterAll(async () => {
    client.close();
    await server.shutdown(100);
  });
  beforeEach(() => {
    handler.calls.length = 0;
    ctx.decisions.length = 0;
  });

  it('passes the converted request to the handler and allows with its headers', async () => {
    handler.behaviour = () => Promise.resolve(allowDecision([{ name: 'x-sub', value: 'alice' }], ['authorization']));
    const resp = await client.check(checkRequest({ method: 'PUT', path: '/o/1', host: 'shop.test', headers: { authorization: 'Bearer t', 'x-request-id': 'rid-7' } }));
    expect(httpStatusOf(resp)).toBe(200);
    expect(resp.status?.code).toBe(0);
    expect(resp.http_response).toBe('ok_response');
    expect(headerOf(resp, 'x-sub')).toBe('alice');
    expect(headerOptionsOf(resp)[0]).toMatchObject({ append: { value: false }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
    expect(headersToRemove(resp)).toEqual(['authorization']);
    const seen = handler.calls[0]?.request;
    expect(seen).toMatchObject({ method: 'PUT', path: '/o/1', host: 'shop.test', requestId: 'rid-7' });
    expect(seen?.headers.get('authorization')).toEqual(['Bearer t']);
    expect(ctx.decisions[0]?.decision.kind).toBe('allow');
    expect(ctx.decisions[0]?.request?.requestId).toBe('rid-7');
  });

  it.each([
    { status: 400, grpc: 3 },
    { status: 401, grpc: 16 },
    { status: 403, grpc: 7 },
    { status: 404, grpc: 5 },
  ] as const)('denies $status with gRPC code $grpc, JSON body and content-type', async ({ status, grpc }) => {
    handler.behaviour = () => Promise.resolve(deny(status, 'denied_by_rule', 'denied'));
    const resp = await client.check(checkRequest({ headers: { 'x-request-id': 'rid-d' } }));
    expect(resp.status?.code).toBe(grpc);
    expect(httpStatusOf(resp)).toBe(status);
    expect(headerOf(resp, 'content-type')).toBe('application/json');
    expect(bodyOf(resp)).toEqual({ error: 'denied_by_rule', message: 'denied', request_id: 'rid-d' });
    expect(headerOf(resp, 'www-authenticate') !== undefined).toBe(status === 401);
  });

  it('formats and escapes www-authenticate from the decision realm', async () => {
    handler.behaviour = () => Promise.resolve({ ...deny(401, 'token_expired', 'Jwt is expired'), realm: 'https://shop.test/a"b\\c' });
    const resp = await client.check(checkRequest());
    expect(headerOf(resp, 'www-authenticate')).toBe('Bearer realm="https://shop.test/a\\"b\\\\c", error="invalid_token"');
  });

  it('uses scheme://host of the request when the decision has no realm', async () => {
    handler.behaviour = () => Promise.resolve(deny(401, 'multiple_tokens', 'x', undefined, 'invalid_request'));
    const resp = await client.check(checkRequest({ scheme: 'https', host: 'shop.test:8443' }));
    expect(headerOf(resp, 'www-authenticate')).toBe('Bearer realm="https://shop.test:8443", error="invalid_request"');
  });

  it('answers 400 malformed_request without calling the handler when http is missing', async () => {
    for (const req of [{}, { attributes: {} }, { attributes: { request: {} } }]) {
      const resp = await client.check(req);
      expect(httpStatusOf(resp)).toBe(400);
      expect(resp.status?.code).toBe(3);
      expect((bodyOf(resp) as { error: string }).error).toBe('malformed_request');
    }
    expect(handler.calls).toHaveLength(0);
    expect(ctx.decisions.map((d) => d.request)).toEqual([undefined, undefined, undefined]);
  });

  it.each([
    { name: 'rejects', behaviour: () => Promise.reject(new Error('boom')) },
    { name: 'throws synchronously', behaviour: (): Promise<Decision> => { throw new TypeError('bad'); } },
    { name: 'rejects with an error whose cause holds claims', behaviour: () => Promise.reject(new Error('x', { cause: { payload: 'secret-claims' } })) },
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the point of the row
    { name: 'rejects with a non-error', behaviour: () => Promise.reject('secret-claims') },
  ])('denies 403 internal_error when the handler $name, logging once with the request id', async ({ behaviour }) => {
    handler.behaviour = behaviour;
    const before = ctx.log.lines().length;
    const resp = await client.check(checkRequest({ headers: { 'x-request-id': 'rid-err', authorization: 'Bearer sekret.token.value' } }));
    expect(httpStatusOf(resp)).toBe(403);
    expect(resp.status?.code).toBe(7);
    expect(bodyOf(resp)).toMatchObject({ error: 'internal_error', request_id: 'rid-err' });
    const errors = ctx.log.lines().slice(before).filter((l) => l['level'] === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.['requestId']).toBe('rid-err');
    expect(ctx.log.text()).not.toContain('sekret.token.value');
    expect(ctx.log.text()).not.toContain('secret-claims');
  });

  it('answers a hanging handler with 403 internal_error before the call deadline', async () => {
    handler.behaviour = never;
    const t0 = Date.now();
    const resp = await client.check(checkRequest({ headers: { 'x-request-id': 'rid-hang' } }), { deadlineMs: 300 });
    const elapsed = Date.now() - t0;
    expect(httpStatusOf(resp)).toBe(403);
    expect(bodyOf(resp)).toMatchObject({ error: 'internal_error' });
    expect(elapsed).toBeLessThan(300);
    expect(elapsed).toBeGreaterThanOrEqual(200);
    // The handler was told when its answer is due: the call deadline minus the 25 + 10 ms margins.
    const call = handler.calls[0];
    expect(call).toBeDefined();
    expect((call?.deadlineMs ?? 0) - t0).toBeGreaterThan(200);
    expect((call?.deadlineMs ?? 0) - t0).toBeLessThanOrEqual(300 - 25 - 10 + 5);
  });

  it('takes the decision of a handler that gives up at its deadline', async () => {
    handler.behaviour = (_request, deadlineMs) =>
      new Promise((resolve) => setTimeout(() => resolve(deny(401, 'jwks_unavailable', 'Jwks remote fetch is failed')), deadlineMs - Date.now()));
    const resp = await client.check(checkRequest(), { deadlineMs: 200 });
    expect(httpStatusOf(resp)).toBe(401);
    expect(bodyOf(resp)).toMatchObject({ error: 'jwks_unavailable' });
  });

  it('ignores a decision that arrives after the budget', async () => {
    handler.behaviour = () => new Promise((resolve) => setTimeout(() => resolve(allowDecision()), 400));
    const resp = await client.check(checkRequest(), { deadlineMs: 200 });
    expect(httpStatusOf(resp)).toBe(403);
    await new Promise((r) => setTimeout(r, 300));
    expect(ctx.decisions.map((d) => d.decision.kind)).toEqual(['deny']);
  });

  it('answers before a deadline that leaves no budget', async () => {
    handler.behaviour = never;
    const resp = await client.check(checkRequest(), { deadlineMs: 40 }).catch((err: unknown) => err);
    // Either our denial or the client's own DEADLINE_EXCEEDED if the wire took >15 ms; never an allow.
    if ('status' in (resp as object)) expect(httpStatusOf(resp as never)).toBe(403);
    else expect(resp).toMatchObject({ code: 4 });
  });

  it('survives an onDecision hook that throws', async () => {
    const { server: s, client: c, log } = await startWithHook();
    try {
      const resp = await c.check(checkRequest());
      expect(httpStatusOf(resp)).toBe(200);
      expect(log.lines().some((l) => l['msg'] === 'decision hook failed')).toBe(true);
    } finally {
      c.close();
      await s.shutdown(100);
    }
  });
});

async function startWithHook() {
  const log = captureLogger();
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    handler: { decide: () => Promise.resolve(allowDecision()) },
    logger: log.logger,
    readiness: () => true,
    onDecision: () => {
      throw new Error('metrics broke');
    },
  });
  return { server, client: createAuthzClient(server.port), log };
}

describe('error status and decision cap', () => {
  it('uses the configured statusOnError for internal errors', async () => {
    const { server, client } = await start({ decide: () => Promise.reject(new Error('x')) }, { statusOnError: 401 });
    try {
      const resp = await client.check(checkRequest({ scheme: 'https', host: 'a.test' }));
      expect(httpStatusOf(resp)).toBe(401);
      expect(resp.status?.code).toBe(16);
      expect(bodyOf(resp)).toMatchObject({ error: 'internal_error' });
      expect(headerOf(resp, 'www-authenticate')).toBe('Bearer realm="https://a.test", error="invalid_token"');
    } finally {
      client.close();
      await server.shutdown(100);
    }
  });

  it('caps a decision at maxDecisionMs when the call has no deadline', async () => {
    const handler = new FakeHandler();
    handler.behaviour = never;
    const { server, client } = await start(handler, { maxDecisionMs: 150 });
    try {
      const t0 = Date.now();
      const resp = await client.check(checkRequest(), { deadlineMs: Infinity });
      expect(httpStatusOf(resp)).toBe(403);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect((handler.calls[0]?.deadlineMs ?? 0) - t0).toBeLessThanOrEqual(160);
    } finally {
      client.close();
      await server.shutdown(100);
    }
  });
});
