/**
 * Our proto/ definitions against the upstream Envoy protos shipped in @grpc/grpc-js-xds/deps: same messages, same
 * fields, and bytes from one side decode identically on the other.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadSync, type MessageTypeDefinition, type PackageDefinition } from '@grpc/proto-loader';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { PROTO_DIR, PROTO_FILES, SERVER_LOADER_OPTIONS } from '../../src/grpc/load-protos.js';
import { toCheckResponse } from '../../src/grpc/to-check-response.js';
import { toRequestAttributes } from '../../src/grpc/to-request-attributes.js';
import { deny } from '../../src/model/decision.js';
import { LOADER_OPTIONS, UPSTREAM_INCLUDE_DIRS, checkRequest, upstreamDefinition } from '../helpers/upstream-client.js';

function loadRoot(files: readonly string[], dirs: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => dirs.map((d) => join(d, target)).find((p) => existsSync(p)) ?? target;
  root.loadSync([...files], { keepCase: true });
  root.resolveAll();
  return root;
}

const oursRoot = loadRoot(PROTO_FILES, [PROTO_DIR]);
const upstreamRoot = loadRoot(['envoy/service/auth/v3/external_auth.proto'], UPSTREAM_INCLUDE_DIRS);

/** Every message and enum defined under a namespace, nested ones included, by full name. */
function collect(ns: protobuf.NamespaceBase, out = new Map<string, protobuf.Type | protobuf.Enum>()): Map<string, protobuf.Type | protobuf.Enum> {
  for (const n of ns.nestedArray) {
    if (n instanceof protobuf.Enum) out.set(n.fullName, n);
    else if (n instanceof protobuf.Type) out.set(n.fullName, n);
    if (n instanceof protobuf.Namespace) collect(n, out);
  }
  return out;
}

/** What the wire (and proto-loader objects) depend on: names, numbers, types, labels, maps, oneofs. */
function shape(t: protobuf.Type | protobuf.Enum): unknown {
  if (t instanceof protobuf.Enum) return { enum: { ...t.values } };
  return {
    fields: t.fieldsArray
      .map((f) => ({
        name: f.name,
        id: f.id,
        type: f.resolvedType?.fullName ?? f.type,
        label: f.repeated ? 'repeated' : f.required ? 'required' : 'optional',
        mapKey: f instanceof protobuf.MapField ? f.keyType : undefined,
        oneof: f.partOf?.name,
        deprecated: f.options?.['deprecated'] === true,
      }))
      .sort((a, b) => a.id - b.id),
    oneofs: t.oneofsArray.map((o) => ({ name: o.name, fields: o.fieldsArray.map((f) => f.name) })),
  };
}

const ours = collect(oursRoot);
const upstream = collect(upstreamRoot);

describe('our protos are a wire-compatible subset of upstream', () => {
  it('define every message ext_authz v3 and health need', () => {
    for (const name of [
      '.envoy.service.auth.v3.CheckRequest',
      '.envoy.service.auth.v3.CheckResponse',
      '.envoy.service.auth.v3.OkHttpResponse',
      '.envoy.service.auth.v3.DeniedHttpResponse',
      '.envoy.service.auth.v3.AttributeContext.Peer',
      '.envoy.service.auth.v3.AttributeContext.Request',
      '.envoy.service.auth.v3.AttributeContext.HttpRequest',
      '.envoy.service.auth.v3.AttributeContext.TLSSession',
      '.envoy.config.core.v3.Address',
      '.envoy.config.core.v3.SocketAddress',
      '.envoy.config.core.v3.HeaderValue',
      '.envoy.config.core.v3.HeaderValueOption',
      '.envoy.config.core.v3.HeaderMap',
      '.envoy.config.core.v3.Metadata',
      '.envoy.config.core.v3.QueryParameter',
      '.envoy.type.v3.HttpStatus',
      '.envoy.type.v3.StatusCode',
      '.google.rpc.Status',
      '.grpc.health.v1.HealthCheckRequest',
      '.grpc.health.v1.HealthCheckResponse',
    ]) {
      expect(ours.has(name), name).toBe(true);
    }
  });

  const compared = [...ours.keys()].filter((n) => !n.startsWith('.grpc.health.'));
  it.each(compared)('%s matches upstream field for field', (name) => {
    const theirs = upstream.get(name);
    expect(theirs, `${name} exists upstream`).toBeDefined();
    const mine = ours.get(name);
    if (theirs === undefined || mine === undefined) return;
    expect(shape(mine)).toEqual(shape(theirs));
  });

  it('serves the same Authorization/Check method as upstream', () => {
    const mine = oursRoot.lookupService('envoy.service.auth.v3.Authorization').methods['Check'];
    const theirs = upstreamRoot.lookupService('envoy.service.auth.v3.Authorization').methods['Check'];
    expect([mine?.resolvedRequestType?.fullName, mine?.resolvedResponseType?.fullName]).toEqual([
      theirs?.resolvedRequestType?.fullName,
      theirs?.resolvedResponseType?.fullName,
    ]);
  });

  it('health matches the canonical grpc-proto health.proto (no copy is installed, so its numbers are listed here)', () => {
    expect(shape(oursRoot.lookupType('grpc.health.v1.HealthCheckRequest'))).toMatchObject({ fields: [{ name: 'service', id: 1, type: 'string' }] });
    expect(shape(oursRoot.lookupType('grpc.health.v1.HealthCheckResponse'))).toMatchObject({
      fields: [{ name: 'status', id: 1, type: '.grpc.health.v1.HealthCheckResponse.ServingStatus' }],
    });
    expect(oursRoot.lookupEnum('grpc.health.v1.HealthCheckResponse.ServingStatus').values).toEqual({ UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 });
    const svc = oursRoot.lookupService('grpc.health.v1.Health');
    expect(Object.keys(svc.methods).sort()).toEqual(['Check', 'Watch']);
    expect(svc.methods['Watch']?.responseStream).toBe(true);
  });

  it('import no validation, udpa, xds or envoy annotation protos', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.proto')) files.push(p);
      }
    };
    walk(PROTO_DIR);
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/import\s+"(validate|udpa|xds|envoy\/annotations)\//);
      expect(text, f).not.toMatch(/\((validate|udpa|envoy\.annotations)\./);
    }
  });
});

// ------------------------------------------------------------------------------------------------ bytes

const oursDef: PackageDefinition = loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
const serverDef: PackageDefinition = loadSync([...PROTO_FILES], { ...SERVER_LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
// Without defaults, so a decode → encode round trip writes exactly the fields that were on the wire.
const upstreamPlainDef: PackageDefinition = loadSync('envoy/service/auth/v3/external_auth.proto', { ...SERVER_LOADER_OPTIONS, includeDirs: [...UPSTREAM_INCLUDE_DIRS] });

function message(def: PackageDefinition, name: string): MessageTypeDefinition<object, object> {
  const m = def[name];
  if (m === undefined || !('serialize' in m)) throw new TypeError(`no message ${name}`);
  return m as MessageTypeDefinition<object, object>;
}

// protobufjs' built-in google/protobuf/struct.proto names Value's fields in camelCase, whatever keepCase says.
const struct = {
  fields: {
    sub: { stringValue: 'alice' },
    n: { numberValue: 1.5 },
    ok: { boolValue: true },
    nothing: { nullValue: 'NULL_VALUE' },
    list: { listValue: { values: [{ stringValue: 'a' }, { structValue: { fields: { x: { numberValue: 2 } } } }] } },
  },
};

/** A CheckRequest setting every field of every message we define. */
const everything = {
  attributes: {
    source: {
      address: { socket_address: { protocol: 'UDP', address: '2001:db8::1', named_port: 'https', resolver_name: 'r', ipv4_compat: true } },
      service: 'curl',
      labels: { app: 'curl', version: 'v1' },
      principal: 'spiffe://cluster.local/ns/foo/sa/curl',
      certificate: '-----BEGIN%20CERTIFICATE-----',
    },
    destination: { address: { pipe: { path: '/run/envoy.sock', mode: 420 } }, principal: 'spiffe://cluster.local/ns/foo/sa/httpbin' },
    request: {
      time: { seconds: '1700000000', nanos: 5 },
      http: {
        id: 'rid-1',
        method: 'POST',
        headers: { ':path': '/a', authorization: 'Bearer x.y.z', 'x-multi': 'a,b' },
        header_map: { headers: [{ key: 'x-raw', raw_value: Buffer.from([0, 255, 10]) }, { key: 'x-v', value: 'v' }] },
        path: '/a?b=%2F',
        host: 'httpbin.example.com:8000',
        scheme: 'https',
        query: 'q',
        fragment: 'f',
        size: '-1',
        protocol: 'HTTP/2',
        body: '{"a":1}',
        raw_body: Buffer.from('raw body'),
      },
    },
    context_extensions: { namespace: 'foo', 'x.y': '' },
    metadata_context: {
      filter_metadata: { 'envoy.filters.http.jwt_authn': struct },
      typed_filter_metadata: { t: { type_url: 'type.googleapis.com/google.protobuf.StringValue', value: Buffer.from([10, 1, 120]) } },
    },
    route_metadata_context: { filter_metadata: { r: { fields: {} } } },
    tls_session: { sni: 'httpbin.example.com' },
  },
};

const internalAddress = { attributes: { source: { address: { envoy_internal_address: { server_listener_name: 'l', endpoint_id: 'e' } } } } };

describe('CheckRequests encoded with upstream decode identically with ours', () => {
  const up = message(upstreamDefinition(), 'envoy.service.auth.v3.CheckRequest');
  const mine = message(oursDef, 'envoy.service.auth.v3.CheckRequest');

  it.each([
    { name: 'every field set', req: everything },
    { name: 'an envoy internal address', req: internalAddress },
    { name: 'the helper request', req: checkRequest({ headers: { cookie: 'a=b' }, destinationPrincipal: 'spiffe://td/ns/n/sa/s', contextExtensions: { k: 'v' }, sni: 's' }) },
    { name: 'raw headers', req: checkRequest({ rawHeaders: [['authorization', 'Bearer a'], ['authorization', new Uint8Array([0xc3, 0x28])]] }) },
    { name: 'an empty request', req: {} },
  ])('$name', ({ req }) => {
    const bytes = up.serialize(req);
    const decoded = mine.deserialize(bytes);
    expect(decoded).toEqual(up.deserialize(bytes));
    // Nothing is lost: our re-encoding is byte-identical (an unknown field would be dropped here).
    const plain = message(serverDef, 'envoy.service.auth.v3.CheckRequest');
    expect(Buffer.from(plain.serialize(plain.deserialize(bytes))).equals(bytes)).toBe(true);
  });

  it('every field set: the bytes carry every top-level and nested field we read', () => {
    const decoded = mine.deserialize(up.serialize(everything)) as typeof everything;
    expect(decoded.attributes.request.http.header_map.headers[0]?.raw_value).toEqual(Buffer.from([0, 255, 10]));
    expect(decoded.attributes.metadata_context.filter_metadata['envoy.filters.http.jwt_authn']).toMatchObject({ fields: { sub: { stringValue: 'alice' } } });
  });

  it('and become the RequestAttributes we expect through the server decoder', () => {
    const attrs = toRequestAttributes(message(serverDef, 'envoy.service.auth.v3.CheckRequest').deserialize(up.serialize(everything)));
    expect(attrs).toMatchObject({ method: 'POST', host: 'httpbin.example.com:8000', path: '/a?b=%2F', scheme: 'https', requestId: 'rid-1', sni: 'httpbin.example.com' });
    expect(attrs?.source).toEqual({ address: '2001:db8::1', port: 0, principal: 'spiffe://cluster.local/ns/foo/sa/curl' });
    expect(attrs?.destination).toEqual({ address: '', port: 0, principal: 'spiffe://cluster.local/ns/foo/sa/httpbin' });
    expect(attrs?.headers.get('x-raw')).toEqual(['\u0000\u00ff\n']);
    expect(attrs?.headers.get('x-multi')).toEqual(['a,b']);
    expect([...(attrs?.contextExtensions ?? [])]).toEqual([['namespace', 'foo'], ['x.y', '']]);
  });

  it('random headers, extensions and peers decode identically', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    fc.assert(
      fc.property(
        fc.dictionary(text, text, { maxKeys: 20 }),
        fc.dictionary(text, text, { maxKeys: 5 }),
        fc.array(fc.tuple(text, fc.uint8Array({ maxLength: 30 })), { maxLength: 10 }),
        fc.integer({ min: 0, max: 65535 }),
        (headers, ext, raw, port) => {
          const req = {
            attributes: {
              source: { address: { socket_address: { address: '10.0.0.1', port_value: port } } },
              request: { http: { headers, header_map: { headers: raw.map(([key, v]) => ({ key, raw_value: Buffer.from(v) })) } } },
              context_extensions: ext,
            },
          };
          const bytes = up.serialize(req);
          expect(mine.deserialize(bytes)).toEqual(up.deserialize(bytes));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('CheckResponses encoded with ours decode as expected with upstream', () => {
  const mine = message(serverDef, 'envoy.service.auth.v3.CheckResponse');
  const up = message(upstreamDefinition(), 'envoy.service.auth.v3.CheckResponse');
  const ctx = { requestId: 'r', scheme: 'https', host: 'h.test' };

  it('an allow', () => {
    const decision = { kind: 'allow', headersToSet: [{ name: 'x-sub', value: 'alice' }], headersToRemove: ['authorization'], queryParametersToRemove: ['access_token'], principal: undefined, rule: undefined } as const;
    expect(up.deserialize(mine.serialize(toCheckResponse(decision, ctx)))).toEqual({
      status: { code: 0, message: '', details: [] },
      http_response: 'ok_response',
      ok_response: {
        headers: [{ header: { key: 'x-sub', value: 'alice', raw_value: Buffer.alloc(0) }, append: { value: false }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD', keep_empty_value: false }],
        headers_to_remove: ['authorization'],
        dynamic_metadata: null,
        response_headers_to_add: [],
        query_parameters_to_set: [],
        query_parameters_to_remove: ['access_token'],
      },
      dynamic_metadata: null,
    });
  });

  it('a 401', () => {
    const decoded = up.deserialize(mine.serialize(toCheckResponse(deny(401, 'token_expired', 'Jwt is expired'), ctx))) as {
      status: { code: number };
      http_response: string;
      denied_response: { status: { code: string }; headers: { header: { key: string; value: string } }[]; body: string };
    };
    expect(decoded.status.code).toBe(16);
    expect(decoded.http_response).toBe('denied_response');
    expect(decoded.denied_response.status.code).toBe('Unauthorized');
    expect(decoded.denied_response.headers.map((h) => [h.header.key, h.header.value])).toEqual([
      ['content-type', 'application/json'],
      ['www-authenticate', 'Bearer realm="https://h.test", error="invalid_token"'],
    ]);
    expect(JSON.parse(decoded.denied_response.body)).toEqual({ error: 'token_expired', message: 'Jwt is expired', request_id: 'r' });
  });

  it('a response setting every field round-trips through upstream unchanged', () => {
    const mineFull = message(oursDef, 'envoy.service.auth.v3.CheckResponse');
    const header = { header: { key: 'k', value: 'v', raw_value: Buffer.from('r') }, append: { value: true }, append_action: 'ADD_IF_ABSENT', keep_empty_value: true };
    const full = {
      status: { code: 0, message: 'm', details: [{ type_url: 'type.googleapis.com/x', value: Buffer.from([1]) }] },
      http_response: 'ok_response',
      ok_response: {
        headers: [header],
        headers_to_remove: ['a'],
        dynamic_metadata: struct,
        response_headers_to_add: [header],
        query_parameters_to_set: [{ key: 'q', value: '1' }],
        query_parameters_to_remove: ['t'],
      },
      dynamic_metadata: struct,
    };
    const bytes = mineFull.serialize(full);
    expect(up.deserialize(bytes)).toEqual(mineFull.deserialize(bytes));
    const upPlain = message(upstreamPlainDef, 'envoy.service.auth.v3.CheckResponse');
    expect(Buffer.from(upPlain.serialize(upPlain.deserialize(bytes))).equals(bytes)).toBe(true);
  });
});
