// Loads the upstream Envoy ext_authz v3 protos vendored in @grpc/grpc-js-xds (dev dependency), so the bench
// speaks exactly what Envoy sends, independent of the service's own proto/ copies.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPS = join(ROOT, 'node_modules', '@grpc', 'grpc-js-xds', 'deps');

/** Repository root (bench/ lives directly below it). */
export const REPO_ROOT = ROOT;

/** `envoy.service.auth.v3` package: `{ Authorization }` service constructor and its definition. */
export function loadAuthorization() {
  const definition = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    includeDirs: [join(DEPS, 'envoy-api'), join(DEPS, 'googleapis'), join(DEPS, 'protoc-gen-validate'), join(DEPS, 'xds')],
    keepCase: true,
    longs: Number,
    enums: Number,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition);
  const Authorization = pkg.envoy.service.auth.v3.Authorization;
  return { Authorization, service: Authorization.service };
}

export { grpc };
