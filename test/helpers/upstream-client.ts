/**
 * A client for our ext_authz server built from the UPSTREAM Envoy protos (not ours), so every integration test
 * also proves wire compatibility. The health client uses proto/grpc/health/v1/health.proto: no upstream copy of the
 * health proto is installed (ours is the canonical grpc-proto text without `List`).
 */
import { fileURLToPath } from 'node:url';
import { Client, Metadata, credentials, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition, type Options, type PackageDefinition } from '@grpc/proto-loader';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPS = `${ROOT}node_modules/@grpc/grpc-js-xds/deps`;

/** Include directories for the upstream protos (envoy-api, googleapis, xds, protoc-gen-validate). */
export const UPSTREAM_INCLUDE_DIRS: readonly string[] = Object.freeze(
  ['envoy-api', 'googleapis', 'xds', 'protoc-gen-validate'].map((d) => `${DEPS}/${d}`),
);

/** The loader options Envoy-facing tests use: snake_case keys, string enums and longs, defaults, oneof names. */
export const LOADER_OPTIONS: Options = Object.freeze({ keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });

let upstream: PackageDefinition | undefined;
/** The upstream `external_auth.proto` package definition (loaded once). */
export function upstreamDefinition(): PackageDefinition {
  upstream ??= loadSync('envoy/service/auth/v3/external_auth.proto', { ...LOADER_OPTIONS, includeDirs: [...UPSTREAM_INCLUDE_DIRS] });
  return upstream;
}

let health: PackageDefinition | undefined;
function healthDefinition(): PackageDefinition {
  health ??= loadSync('grpc/health/v1/health.proto', { ...LOADER_OPTIONS, includeDirs: [`${ROOT}proto`] });
  return health;
}

function methodOf(def: PackageDefinition, service: string, method: string): MethodDefinition<object, object> {
  const svc = def[service];
  const m = svc !== undefined && !('format' in svc) && !('type' in svc) ? svc[method] : undefined;
  if (m === undefined) throw new TypeError(`no method ${service}/${method}`);
  return m as MethodDefinition<object, object>;
}

/** `envoy.type.v3.StatusCode` name → number (responses decode enums as names). */
function statusCodeNumbers(): ReadonlyMap<string, number> {
  const e = upstreamDefinition()['envoy.type.v3.StatusCode'];
  const values = e !== undefined && 'type' in e ? (e.type as { value?: { name: string; number: number }[] }).value : undefined;
  return new Map((values ?? []).map((v) => [v.name, v.number]));
}
let codes: ReadonlyMap<string, number> | undefined;

// ---------------------------------------------------------------- request builder

export interface CheckRequestInput {
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly scheme?: string;
  /** Merged request headers (`attributes.request.http.headers`). Names are sent as given. */
  readonly headers?: Readonly<Record<string, string>>;
  /** When given, headers go to `header_map` (Envoy `encode_raw_headers`) as `raw_value` bytes instead of `headers`. */
  readonly rawHeaders?: readonly (readonly [string, string | Uint8Array])[];
  /** Add `:method`, `:path`, `:authority`, `:scheme` to the headers as Envoy does (default true). */
  readonly pseudoHeaders?: boolean;
  /** `attributes.request.http.id`. */
  readonly id?: string;
  readonly sourceAddress?: string;
  readonly sourcePort?: number;
  readonly sourcePrincipal?: string;
  readonly destinationAddress?: string;
  readonly destinationPort?: number;
  readonly destinationPrincipal?: string;
  readonly contextExtensions?: Readonly<Record<string, string>>;
  readonly sni?: string;
}

function peer(address: string | undefined, port: number | undefined, principal: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (address !== undefined || port !== undefined) {
    out['address'] = { socket_address: { protocol: 'TCP', address: address ?? '', port_value: port ?? 0 } };
  }
  if (principal !== undefined) out['principal'] = principal;
  return out;
}

/** Builds a CheckRequest plain object (upstream field names) as Envoy would send it. */
export function checkRequest(input: CheckRequestInput = {}): Record<string, unknown> {
  const { method = 'GET', path = '/', host = 'example.com', scheme = 'http' } = input;
  const pseudo: [string, string][] =
    input.pseudoHeaders === false ? [] : [[':authority', host], [':method', method], [':path', path], [':scheme', scheme]];
  const http: Record<string, unknown> = { method, path, host, scheme, protocol: 'HTTP/1.1' };
  if (input.id !== undefined) http['id'] = input.id;
  if (input.rawHeaders === undefined) {
    http['headers'] = { ...Object.fromEntries(pseudo), ...input.headers };
  } else {
    const all: (readonly [string, string | Uint8Array])[] = [...pseudo, ...input.rawHeaders];
    http['header_map'] = {
      headers: all.map(([key, v]) => ({ key, raw_value: typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v) })),
    };
  }
  const attributes: Record<string, unknown> = {
    source: peer(input.sourceAddress ?? '10.0.0.1', input.sourcePort ?? 40000, input.sourcePrincipal),
    destination: peer(input.destinationAddress ?? '10.0.0.2', input.destinationPort ?? 8080, input.destinationPrincipal),
    request: { time: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 }, http },
  };
  if (input.contextExtensions !== undefined) attributes['context_extensions'] = { ...input.contextExtensions };
  if (input.sni !== undefined) attributes['tls_session'] = { sni: input.sni };
  return { attributes };
}

// ---------------------------------------------------------------- response shape (as decoded with LOADER_OPTIONS)

export interface HeaderValueObject {
  readonly key: string;
  readonly value: string;
  readonly raw_value: Buffer;
}
export interface HeaderValueOptionObject {
  readonly header: HeaderValueObject | null;
  readonly append: { readonly value: boolean } | null;
  readonly append_action: string;
  readonly keep_empty_value: boolean;
}
export interface CheckResponseObject {
  readonly status: { readonly code: number; readonly message: string; readonly details: unknown[] } | null;
  readonly http_response?: 'denied_response' | 'ok_response';
  readonly denied_response?: {
    /** Enum name, e.g. `Unauthorized`. */
    readonly status: { readonly code: string } | null;
    readonly headers: HeaderValueOptionObject[];
    readonly body: string;
  };
  readonly ok_response?: {
    readonly headers: HeaderValueOptionObject[];
    readonly headers_to_remove: string[];
    readonly response_headers_to_add: HeaderValueOptionObject[];
    readonly query_parameters_to_set: { readonly key: string; readonly value: string }[];
    readonly query_parameters_to_remove: string[];
  };
  readonly dynamic_metadata: unknown;
}

// ---------------------------------------------------------------- readers

/** 200 for an OK status, else `denied_response.status.code` as a number (403 when unset, as Envoy does). */
export function httpStatusOf(resp: CheckResponseObject): number {
  if ((resp.status?.code ?? 0) === 0) return 200;
  const name = resp.denied_response?.status?.code;
  if (name === undefined || name === 'Empty') return 403;
  codes ??= statusCodeNumbers();
  const n = codes.get(name) ?? Number(name);
  if (!Number.isInteger(n)) throw new TypeError(`unknown StatusCode ${name}`);
  return n;
}

/** The header options of the ok or denied response. */
export function headerOptionsOf(resp: CheckResponseObject): HeaderValueOptionObject[] {
  return resp.ok_response?.headers ?? resp.denied_response?.headers ?? [];
}

/** Value of a header set by the response (ok: upstream header; denied: client header), case-insensitive name. */
export function headerOf(resp: CheckResponseObject, name: string): string | undefined {
  const lower = name.toLowerCase();
  const h = headerOptionsOf(resp).find((o) => o.header?.key.toLowerCase() === lower)?.header;
  if (h === undefined || h === null) return undefined;
  return h.value !== '' || h.raw_value.length === 0 ? h.value : h.raw_value.toString('utf8');
}

/** `ok_response.headers_to_remove` (empty for a denial). */
export function headersToRemove(resp: CheckResponseObject): string[] {
  return resp.ok_response?.headers_to_remove ?? [];
}

/** The denial body parsed as JSON (undefined without a body). */
export function bodyOf(resp: CheckResponseObject): unknown {
  const body = resp.denied_response?.body;
  return body === undefined || body === '' ? undefined : (JSON.parse(body) as unknown);
}

// ---------------------------------------------------------------- client

export interface CallOptions {
  /** Call deadline from now; default 10 s; Infinity ⇒ no deadline. */
  readonly deadlineMs?: number;
}

export interface AuthzClient {
  /** Authorization/Check; rejects with the grpc-js ServiceError on a gRPC error status. */
  check(req: object, options?: CallOptions): Promise<CheckResponseObject>;
  /** Health/Check; resolves with the status name (`SERVING`, `NOT_SERVING`); rejects on a gRPC error (NOT_FOUND). */
  health(service: string, options?: CallOptions): Promise<string>;
  /** Health/Watch: the server stream, each message `{ status: '<name>' }`; the end shows as a 'status' event. Cancel it when done. */
  watchHealth(service: string): ClientReadableStream<{ status: string }>;
  /** Sends `bytes` as the raw message of a unary call to `path`; resolves with the raw response bytes. */
  callRaw(path: string, bytes: Buffer, options?: CallOptions): Promise<Buffer>;
  close(): void;
}

function deadlineOf(options: CallOptions | undefined): { deadline?: number } {
  const ms = options?.deadlineMs ?? 10_000;
  return Number.isFinite(ms) ? { deadline: Date.now() + ms } : {};
}

type Codec<Req, Res> = Pick<MethodDefinition<Req, Res>, 'path' | 'requestSerialize' | 'responseDeserialize'>;

function unary<Req, Res>(client: Client, m: Codec<Req, Res>, arg: Req, options?: CallOptions): Promise<Res> {
  return new Promise((resolve, reject) => {
    const done = (err: ServiceError | null, value?: Res): void => {
      if (err !== null) reject(err);
      else if (value === undefined) reject(new Error('empty response'));
      else resolve(value);
    };
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, arg, new Metadata(), deadlineOf(options), done);
  });
}

/** A client for `127.0.0.1:<port>` (or `host`). */
export function createAuthzClient(port: number, host = '127.0.0.1'): AuthzClient {
  const client = new Client(`${host}:${port}`, credentials.createInsecure());
  const checkMethod = methodOf(upstreamDefinition(), 'envoy.service.auth.v3.Authorization', 'Check');
  const healthCheck = methodOf(healthDefinition(), 'grpc.health.v1.Health', 'Check');
  const healthWatch = methodOf(healthDefinition(), 'grpc.health.v1.Health', 'Watch');
  const identity = (b: Buffer): Buffer => b;
  return {
    check: (req, options) => unary(client, checkMethod, req, options) as Promise<CheckResponseObject>,
    health: async (service, options) => {
      const res = (await unary(client, healthCheck, { service }, options)) as { status?: unknown };
      return String(res.status);
    },
    watchHealth: (service) => {
      const stream = client.makeServerStreamRequest(healthWatch.path, healthWatch.requestSerialize, healthWatch.responseDeserialize, { service });
      // cancel() ends the stream with a CANCELLED 'error' event; without a listener that would be an uncaught error.
      stream.on('error', () => undefined);
      return stream as ClientReadableStream<{ status: string }>;
    },
    callRaw: (path, bytes, options) =>
      unary(client, { path, requestSerialize: identity, responseDeserialize: identity }, bytes, options),
    close: () => client.close(),
  };
}
