import { Server, ServerCredentials, status, type ServiceDefinition, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bodyOf,
  checkRequest,
  createAuthzClient,
  headerOf,
  headersToRemove,
  httpStatusOf,
  upstreamDefinition,
  type AuthzClient,
  type CheckResponseObject,
} from '../../helpers/upstream-client.js';

// The helper itself, against a bare server built from the same upstream definition that echoes what it decoded.
let server: Server;
let client: AuthzClient;
const received: unknown[] = [];

beforeAll(async () => {
  server = new Server();
  const svc = upstreamDefinition()['envoy.service.auth.v3.Authorization'] as ServiceDefinition;
  server.addService(svc, {
    Check: (call: ServerUnaryCall<{ attributes?: { request?: { http?: { path?: string } } } }, unknown>, cb: sendUnaryData<unknown>) => {
      received.push(call.request);
      if (call.request.attributes?.request?.http?.path === '/fail') {
        cb({ code: status.UNAVAILABLE, details: 'nope' });
        return;
      }
      cb(null, {
        status: { code: 16 },
        denied_response: {
          status: { code: 401 },
          headers: [{ header: { key: 'WWW-Authenticate', value: 'Bearer realm="x"' } }],
          body: '{"error":"token_missing"}',
        },
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  client = createAuthzClient(port);
});

afterAll(() => {
  client.close();
  server.forceShutdown();
});

describe('upstream client helper', () => {
  it('sends a request the server decodes with pseudo-headers, peers and extensions', async () => {
    const resp = await client.check(
      checkRequest({ method: 'POST', path: '/a?b=1', host: 'h.test', headers: { 'x-a': '1' }, sourcePrincipal: 'spiffe://td/ns/a/sa/b', contextExtensions: { namespace: 'a' }, sni: 'h.test' }),
    );
    const req = received.at(-1) as {
      attributes: {
        source: { address: { socket_address: { address: string; port_value: number } }; principal: string };
        request: { http: { method: string; headers: Record<string, string> } };
        context_extensions: Record<string, string>;
        tls_session: { sni: string };
      };
    };
    expect(req.attributes.request.http.method).toBe('POST');
    expect(req.attributes.request.http.headers).toEqual({ ':authority': 'h.test', ':method': 'POST', ':path': '/a?b=1', ':scheme': 'http', 'x-a': '1' });
    expect(req.attributes.source.address.socket_address).toMatchObject({ address: '10.0.0.1', port_value: 40000 });
    expect(req.attributes.source.principal).toBe('spiffe://td/ns/a/sa/b');
    expect(req.attributes.context_extensions).toEqual({ namespace: 'a' });
    expect(req.attributes.tls_session.sni).toBe('h.test');
    expect(httpStatusOf(resp)).toBe(401);
    expect(headerOf(resp, 'www-authenticate')).toBe('Bearer realm="x"');
    expect(bodyOf(resp)).toEqual({ error: 'token_missing' });
    expect(headersToRemove(resp)).toEqual([]);
  });

  it('puts raw headers into header_map as raw_value bytes', async () => {
    await client.check(checkRequest({ rawHeaders: [['authorization', 'Bearer a'], ['authorization', 'Bearer b']] }));
    const req = received.at(-1) as { attributes: { request: { http: { headers: object; header_map: { headers: { key: string; raw_value: Buffer }[] } } } } };
    const entries = req.attributes.request.http.header_map.headers.map((h) => [h.key, h.raw_value.toString()]);
    expect(entries.slice(-2)).toEqual([['authorization', 'Bearer a'], ['authorization', 'Bearer b']]);
    expect(req.attributes.request.http.headers).toEqual({});
  });

  it('rejects with the gRPC status on a gRPC error', async () => {
    await expect(client.check(checkRequest({ path: '/fail' }))).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });

  it('reads an ok response as 200', () => {
    const ok = { status: { code: 0, message: '', details: [] }, ok_response: { headers: [], headers_to_remove: ['authorization'], response_headers_to_add: [], query_parameters_to_set: [], query_parameters_to_remove: [] }, dynamic_metadata: null } satisfies CheckResponseObject;
    expect(httpStatusOf(ok)).toBe(200);
    expect(headersToRemove(ok)).toEqual(['authorization']);
  });
});
