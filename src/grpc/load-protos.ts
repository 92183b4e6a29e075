import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

/** Our own protos (`proto/` at the package root): two levels up from both `src/grpc/` and `dist/grpc/`. */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

/**
 * How the server decodes and encodes: proto field names as written (snake_case), int64 as strings (no Long
 * objects), enums as names, bytes as Buffers, and no default filling so decoding stays cheap: a missing field is
 * simply absent, which `to-request-attributes` expects anyway.
 */
export const SERVER_LOADER_OPTIONS: Options = Object.freeze({ keepCase: true, longs: String, enums: String, defaults: false, oneofs: false });

/** The files we serve. */
export const PROTO_FILES: readonly string[] = Object.freeze(['envoy/service/auth/v3/external_auth.proto', 'grpc/health/v1/health.proto']);

/** Loads our protos. */
export function loadProtos(options: Options = SERVER_LOADER_OPTIONS): {
  readonly definition: PackageDefinition;
  readonly authorization: ServiceDefinition;
  readonly health: ServiceDefinition;
} {
  const definition = loadSync([...PROTO_FILES], { ...options, includeDirs: [PROTO_DIR] });
  return {
    definition,
    authorization: serviceOf(definition, 'envoy.service.auth.v3.Authorization'),
    health: serviceOf(definition, 'grpc.health.v1.Health'),
  };
}

function serviceOf(definition: PackageDefinition, name: string): ServiceDefinition {
  const d = definition[name];
  // A message or enum definition carries `format`; a service definition is a map of methods.
  if (d === undefined || 'format' in d) throw new TypeError(`${name} is not a service in ${PROTO_DIR}`);
  return d as ServiceDefinition;
}
