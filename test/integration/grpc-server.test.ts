import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { MethodDefinition } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckHandler } from '../../src/grpc/authorization-service.js';
import { PROTO_DIR } from '../../src/grpc/load-protos.js';
import { startGrpcServer, type GrpcServer } from '../../src/grpc/server.js';
import { deny, type Decision } from '../../src/model/decision.js';
import type { RequestAttributes } from '../../src/model/request.js';
import { captureLogger } from '../unit/grpc/capture-logger.js';
import {
  checkRequest,
  createAuthzClient,
  headerOf,
  httpStatusOf,
  upstreamDefinition,
  type AuthzClient,
  type CheckResponseObject,
} from '../helpers/upstream-client.js';

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

/** Echo handler: allows with the header count and the length of x-big, denies 401 on `/deny`. */
const echo: CheckHandler = {
  decide(request: RequestAttributes): Promise<Decision> {
    if (request.path === '/deny') return Promise.resolve(deny(401, 'token_missing', 'Jwt is missing'));
    const big = request.headers.get('x-big')?.[0] ?? '';
    return Promise.resolve({
      kind: 'allow',
      headersToSet: [
        { name: 'x-count', value: String(request.headers.size) },
        { name: 'x-big-length', value: String(big.length) },
        { name: 'x-seen', value: JSON.stringify([...request.headers].filter(([k]) => k.startsWith('x-t'))) },
      ],
      headersToRemove: [],
      queryParametersToRemove: [],
      principal: undefined,
      rule: undefined,
    });
  },
};

function decodeResponse(bytes: Buffer): CheckResponseObject {
  const m = upstreamDefinition()['envoy.service.auth.v3.Authorization'] as unknown as Record<string, MethodDefinition<object, CheckResponseObject>>;
  const check = m['Check'];
  if (check === undefined) throw new TypeError('no Check');
  return check.responseDeserialize(bytes);
}

// Minimal protobuf writer, to put bytes on the wire that no well-behaved encoder would produce.
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
function field(no: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...varint((no << 3) | 2), ...varint(payload.length)]), payload]);
}

describe('gRPC server', () => {
  let ready = true;
  let server: GrpcServer;
  let client: AuthzClient;
  const log = captureLogger();

  beforeAll(async () => {
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, handler: echo, logger: log.logger, readiness: () => ready });
    client = createAuthzClient(server.port);
  });
  afterAll(async () => {
    client.close();
    await server.shutdown(200);
  });

  it('loads our protos from proto/ at the package root', () => {
    expect(PROTO_DIR).toBe(fileURLToPath(new URL('../../proto/', import.meta.url)));
  });

  describe('health', () => {
    it.each(['', 'envoy.service.auth.v3.Authorization'])('reports SERVING for "%s" when ready, NOT_SERVING when not', async (service) => {
      ready = true;
      expect(await client.health(service)).toBe('SERVING');
      ready = false;
      expect(await client.health(service)).toBe('NOT_SERVING');
      ready = true;
    });

    it('reports NOT_SERVING after setServing(false) even when ready', async () => {
      server.setServing(false);
      expect(await client.health('')).toBe('NOT_SERVING');
      server.setServing(true);
      expect(await client.health('')).toBe('SERVING');
    });

    it('fails an unknown service with NOT_FOUND', async () => {
      await expect(client.health('grpc.reflection.v1.ServerReflection')).rejects.toMatchObject({ code: 5 });
    });

    it('streams the current status on Watch and the change on setServing', async () => {
      const stream = client.watchHealth('');
      const seen: string[] = [];
      await new Promise<void>((resolve) => {
        stream.on('data', (m: { status: string }) => {
          seen.push(m.status);
          if (seen.length === 1) server.setServing(false);
          if (seen.length === 2) resolve();
        });
      });
      stream.cancel();
      server.setServing(true);
      expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
    });

    it('answers Watch for an unknown service with SERVICE_UNKNOWN and keeps the stream open', async () => {
      const stream = client.watchHealth('nope');
      const first = await new Promise<string>((resolve) => stream.once('data', (m: { status: string }) => resolve(m.status)));
      expect(first).toBe('SERVICE_UNKNOWN');
      stream.cancel();
    });
  });

  describe('odd inputs never produce a gRPC error', () => {
    it.each([
      { name: 'an empty CheckRequest', req: {}, status: 400 },
      { name: 'empty attributes', req: { attributes: {} }, status: 400 },
      { name: 'an empty http message', req: { attributes: { request: { http: {} } } }, status: 200 },
    ])('$name', async ({ req, status }) => {
      expect(httpStatusOf(await client.check(req))).toBe(status);
    });

    it('1000 headers', async () => {
      const headers = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, `v${i}`]));
      const resp = await client.check(checkRequest({ headers }));
      expect(httpStatusOf(resp)).toBe(200);
      expect(headerOf(resp, 'x-count')).toBe('1000');
    });

    it('a 1 MiB header value', async () => {
      const resp = await client.check(checkRequest({ headers: { 'x-big': 'a'.repeat(1024 * 1024) } }));
      expect(headerOf(resp, 'x-big-length')).toBe(String(1024 * 1024));
    });

    it('raw header_map entries keep order and duplicates', async () => {
      const resp = await client.check(checkRequest({ rawHeaders: [['X-T', 'one'], ['x-t', 'two'], ['x-t2', new Uint8Array([0x61, 0xff])]] }));
      expect(JSON.parse(headerOf(resp, 'x-seen') ?? '')).toEqual([['x-t', ['one', 'two']], ['x-t2', ['a\u00ff']]]);
    });

    it('a header named __proto__ in the merged map', async () => {
      const headers: Record<string, string> = {};
      Object.defineProperty(headers, '__proto__', { value: 'p', enumerable: true });
      headers['x-t'] = 'v';
      const resp = await client.check(checkRequest({ headers }));
      expect(httpStatusOf(resp)).toBe(200);
      expect(headerOf(resp, 'x-count')).toBe('2');
    });

    it('invalid UTF-8 in a string field, hand-encoded', async () => {
      const entry = Buffer.concat([field(1, Buffer.from('x-t')), field(2, Buffer.from([0xff, 0xfe, 0x41]))]);
      const http = Buffer.concat([field(2, Buffer.from('GET')), field(3, entry), field(4, Buffer.from([0x2f, 0xc0, 0xae]))]);
      const bytes = field(1, field(4, field(2, http)));
      const resp = decodeResponse(await client.callRaw(CHECK_PATH, bytes));
      expect(httpStatusOf(resp)).toBe(200);
      expect(JSON.parse(headerOf(resp, 'x-seen') ?? '')).toEqual([['x-t', ['\ufffd\ufffdA']]]);
    });

    it('a 401 without a host still carries www-authenticate', async () => {
      const resp = await client.check({ attributes: { request: { http: { path: '/deny' } } } });
      expect(httpStatusOf(resp)).toBe(401);
      expect(headerOf(resp, 'www-authenticate')).toMatch(/^Bearer /);
    });
  });

  describe('bytes that are not a CheckRequest', () => {
    it('garbage gets a gRPC error and the next valid call is served', async () => {
      // Field 1, length-delimited, with a length far beyond the message: never decodable.
      const invalid = Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), randomBytes(64)]);
      // grpc-js answers a message its deserializer rejects with INTERNAL before our handler runs.
      await expect(client.callRaw(CHECK_PATH, invalid)).rejects.toMatchObject({ code: 13, details: 'Error deserializing request' });
      expect(httpStatusOf(await client.check(checkRequest()))).toBe(200);
    });

    it('random bytes give either a gRPC error or a CheckResponse, and the server keeps serving', async () => {
      for (let i = 0; i < 50; i++) {
        const bytes = randomBytes(1 + (i * 37) % 400);
        const outcome = await client.callRaw(CHECK_PATH, bytes).then(
          (b) => ({ status: httpStatusOf(decodeResponse(b)) }),
          (err: { code?: number }) => ({ code: err.code }),
        );
        if ('status' in outcome) expect([200, 400]).toContain(outcome.status);
        else expect(outcome.code).toBeGreaterThan(0);
      }
      expect(httpStatusOf(await client.check(checkRequest()))).toBe(200);
    });

    it('a message over 4 MiB is refused with RESOURCE_EXHAUSTED (documented limit)', async () => {
      const err = await client.check(checkRequest({ headers: { 'x-big': 'a'.repeat(4 * 1024 * 1024 + 10) } })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 8 });
      expect(httpStatusOf(await client.check(checkRequest()))).toBe(200);
    });
  });
});

describe('graceful shutdown', () => {
  const slow = (ms: number): CheckHandler => ({
    decide: () => new Promise((resolve) => setTimeout(() => resolve(deny(403, 'denied_by_rule', 'late but answered')), ms)),
  });

  it('drains an in-flight call, then refuses new ones', async () => {
    const server = await startGrpcServer({ host: '127.0.0.1', port: 0, handler: slow(300), logger: captureLogger().logger, readiness: () => true });
    const client = createAuthzClient(server.port);
    try {
      const inFlight = client.check(checkRequest(), { deadlineMs: 5000 });
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      const stopped = server.shutdown(5000);
      const resp = await inFlight;
      await stopped;
      expect(httpStatusOf(resp)).toBe(403);
      expect(Date.now() - t0).toBeLessThan(2000);
      await expect(client.check(checkRequest(), { deadlineMs: 1000 })).rejects.toMatchObject({ code: expect.any(Number) as number });
    } finally {
      client.close();
    }
  });

  it('ends Watch streams so they do not hold shutdown open', async () => {
    const server = await startGrpcServer({ host: '127.0.0.1', port: 0, handler: slow(1), logger: captureLogger().logger, readiness: () => true });
    const client = createAuthzClient(server.port);
    try {
      const stream = client.watchHealth('');
      const statuses: string[] = [];
      stream.on('data', (m: { status: string }) => statuses.push(m.status));
      const ended = new Promise<void>((resolve) => stream.on('status', () => resolve()));
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      await server.shutdown(3000);
      await ended;
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    } finally {
      client.close();
    }
  });

  it('force-closes calls still running after the grace period', async () => {
    const server = await startGrpcServer({ host: '127.0.0.1', port: 0, handler: slow(3000), logger: captureLogger().logger, readiness: () => true, maxDecisionMs: 5000 });
    const client = createAuthzClient(server.port);
    try {
      const inFlight = client.check(checkRequest(), { deadlineMs: 10_000 }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      await server.shutdown(200);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(await inFlight).toMatchObject({ code: expect.any(Number) as number });
    } finally {
      client.close();
    }
  });
});
