/**
 * The shipped Envoy bootstraps, checked field by field against the UPSTREAM Envoy protos (proto3 JSON mapping,
 * every @type resolved, enums, Durations, protoc-gen-validate rules), then for the ext_authz settings the
 * deployment guide promises. Broken copies must fail, or the checker proves nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ProtoIssue, UpstreamProtos, checkProtoJson } from '../unit/deploy/proto-json-check.js';
import {
  EXT_AUTHZ_TYPE,
  HTTP_OPTIONS_KEY,
  ROUTER_TYPE,
  clusters,
  dig,
  endpointsOf,
  httpConnectionManagers,
  httpFilters,
  list,
  readYaml,
  routesOf,
} from '../unit/deploy/envoy-config.js';

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const FILES = ['deploy/envoy/envoy.yaml', 'deploy/docker-compose/envoy.yaml'].filter((f) => existsSync(f));

let protos: UpstreamProtos;
beforeAll(() => {
  protos = new UpstreamProtos();
  protos.load(['envoy/config/bootstrap/v3/bootstrap.proto']);
});

function check(yamlText: string): ProtoIssue[] {
  return checkProtoJson(protos, BOOTSTRAP, parse(yamlText));
}

it('ships both bootstraps (plain Envoy and docker compose)', () => {
  expect(FILES).toEqual(['deploy/envoy/envoy.yaml', 'deploy/docker-compose/envoy.yaml']);
});

describe.each(FILES)('%s', (file) => {
  const text = readFileSync(file, 'utf8');
  const bootstrap = readYaml(file);
  const [hcm, ...moreHcms] = httpConnectionManagers(bootstrap);

  it('is a valid envoy.config.bootstrap.v3.Bootstrap under the upstream protos', () => {
    expect(check(text)).toEqual([]);
  });

  it('has one HTTP connection manager that normalises paths before authorization', () => {
    expect(hcm).toBeDefined();
    expect(moreHcms).toEqual([]);
    expect(hcm?.['normalize_path']).toBe(true);
    expect(hcm?.['merge_slashes']).toBe(true);
    expect(['UNESCAPE_AND_REDIRECT', 'REJECT_REQUEST']).toContain(hcm?.['path_with_escaped_slashes_action']);
    expect(dig(hcm, 'common_http_protocol_options', 'headers_with_underscores_action')).toBe('REJECT_REQUEST');
  });

  it('runs ext_authz (gRPC, V3, 0.25s, fail closed) before the router, which is last', () => {
    const filters = httpFilters(hcm ?? {});
    expect(filters.map((f) => f.name)).toEqual(['envoy.filters.http.ext_authz', 'envoy.filters.http.router']);
    expect(filters[1]?.config['@type']).toBe(ROUTER_TYPE);
    const authz = filters[0]?.config ?? {};
    expect(authz['@type']).toBe(EXT_AUTHZ_TYPE);
    expect(authz['transport_api_version']).toBe('V3');
    expect(authz['failure_mode_allow']).toBe(false);
    expect(dig(authz, 'status_on_error', 'code')).toBe('Forbidden');
    expect(dig(authz, 'grpc_service', 'timeout')).toBe('0.25s');
  });

  it('points ext_authz at an HTTP/2 cluster with gRPC health checks on the Authorization service', () => {
    const authz = httpFilters(hcm ?? {})[0]?.config;
    const name = dig(authz, 'grpc_service', 'envoy_grpc', 'cluster_name');
    expect(typeof name).toBe('string');
    const cluster = clusters(bootstrap).get(String(name));
    expect(cluster).toBeDefined();
    expect(dig(cluster, 'typed_extension_protocol_options', HTTP_OPTIONS_KEY, 'explicit_http_config', 'http2_protocol_options')).toBeDefined();
    const hc = list(dig(cluster, 'health_checks'))[0];
    expect(dig(hc, 'grpc_health_check', 'service_name')).toBe('envoy.service.auth.v3.Authorization');
    expect(endpointsOf(cluster ?? {})).toHaveLength(1);
    expect(endpointsOf(cluster ?? {})[0]).toMatch(/:9191$/);
  });

  it('routes only to defined clusters, sets context_extensions.namespace, and has one route without the check', () => {
    const routes = routesOf(hcm ?? {});
    const names = new Set(clusters(bootstrap).keys());
    for (const r of routes) expect(names, `route ${r.name}`).toContain(r.cluster);
    const checked = routes.filter((r) => !r.authzDisabled);
    expect(checked.length).toBeGreaterThan(0);
    for (const r of checked) expect(r.contextExtensions['namespace'], `route ${r.name}`).toMatch(/^[a-z0-9-]+$/);
    expect(routes.filter((r) => r.authzDisabled)).toHaveLength(1);
    // The catch-all route is last and checked: nothing falls through unauthorised.
    expect(routes.at(-1)?.match).toEqual({ prefix: '/' });
    expect(routes.at(-1)?.authzDisabled).toBe(false);
  });

  it('keeps the admin interface on loopback', () => {
    expect(dig(bootstrap, 'admin', 'address', 'socket_address', 'address')).toBe('127.0.0.1');
  });
});

describe('broken copies of deploy/envoy/envoy.yaml are rejected', () => {
  const text = readFileSync('deploy/envoy/envoy.yaml', 'utf8');

  it.each([
    { name: 'a typo in a field name', from: 'failure_mode_allow: false', to: 'failure_mode_alow: false', path: /failure_mode_alow$/, message: /unknown field/ },
    { name: 'an unknown @type', from: 'ext_authz.v3.ExtAuthz\n', to: 'ext_authz.v3.ExtAuthZ\n', path: /http_filters\[0\]\.typed_config\.@type$/, message: /unknown type/ },
    { name: 'an @type from another package', from: 'router.v3.Router', to: 'router.v4.Router', path: /http_filters\[1\]\.typed_config\.@type$/, message: /unknown type/ },
    { name: 'a Duration without unit', from: 'timeout: 0.25s', to: 'timeout: 0.25', path: /grpc_service\.timeout$/, message: /Duration/ },
    { name: 'an unknown enum value', from: 'transport_api_version: V3', to: 'transport_api_version: V4', path: /transport_api_version$/, message: /not a value of enum/ },
    { name: 'an unknown HTTP status name', from: 'code: Forbidden', to: 'code: Forbiden', path: /status_on_error\.code$/, message: /not a value of enum/ },
    { name: 'a string where a bool is expected', from: 'merge_slashes: true', to: 'merge_slashes: "yes"', path: /merge_slashes$/, message: /true or false/ },
    { name: 'a typo inside the per-route config', from: 'disabled: true', to: 'disable: true', path: /typed_per_filter_config\.envoy\.filters\.http\.ext_authz\.disable$/, message: /unknown field/ },
    { name: 'a typo in a map-valued Any', from: 'explicit_http_config:', to: 'explicit_http_confg:', path: /HttpProtocolOptions\.explicit_http_confg$/, message: /unknown field/ },
    { name: 'a port out of range', from: 'port_value: 9191', to: 'port_value: 99999', path: /port_value$/, message: /must be <= 65535/ },
    { name: 'a missing required field (cluster name)', from: 'name: upstream\n      type: STATIC', to: 'type: STATIC', path: /clusters\[1\]\.name$/, message: /shorter than 1|min_len/ },
  ])('$name', ({ from, to, path, message }) => {
    expect(text).toContain(from);
    const issues = check(text.replace(from, to));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.some((i) => path.test(i.path) && message.test(i.message)), JSON.stringify(issues)).toBe(true);
  });

  it('accepts the same config with lowerCamelCase field names (proto3 JSON names)', () => {
    const camel = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(camel);
      if (typeof v !== 'object' || v === null) return v;
      // Map keys (cluster names, typed_per_filter_config keys, context_extensions) stay as written.
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [/^[a-z_]+$/.test(k) && k.includes('_') ? k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()) : k, camel(x)]),
      );
    };
    const converted = camel(parse(text));
    expect(JSON.stringify(converted)).toContain('"failureModeAllow":false');
    expect(checkProtoJson(protos, BOOTSTRAP, converted)).toEqual([]);
  });
});
