/**
 * Reading our Envoy bootstrap files for tests: the parts that matter to ext_authz (the HTTP connection
 * managers, the ext_authz filter, routes and the context_extensions Envoy would send for them).
 * Keys are read in snake_case, the form our files use (the proto checker accepts both forms).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type Json = Record<string, unknown>;

export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const EXT_AUTHZ_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
export const EXT_AUTHZ_PER_ROUTE_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';
export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const EXT_AUTHZ_FILTER = 'envoy.filters.http.ext_authz';

/** Parses a YAML file into plain JSON data (what Envoy's loader sees). */
export function readYaml(file: string): unknown {
  return parse(readFileSync(file, 'utf8'));
}

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `obj.a.b[0].c` without casts; undefined when any step is missing. */
export function dig(value: unknown, ...steps: readonly (string | number)[]): unknown {
  let cur: unknown = value;
  for (const s of steps) {
    if (typeof s === 'number') cur = Array.isArray(cur) ? (cur as unknown[])[s] : undefined;
    else cur = isJson(cur) ? cur[s] : undefined;
  }
  return cur;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** Every HttpConnectionManager typed_config in the bootstrap's static listeners. */
export function httpConnectionManagers(bootstrap: unknown): Json[] {
  const out: Json[] = [];
  for (const listener of list(dig(bootstrap, 'static_resources', 'listeners'))) {
    for (const chain of list(dig(listener, 'filter_chains'))) {
      for (const filter of list(dig(chain, 'filters'))) {
        const config = dig(filter, 'typed_config');
        if (isJson(config) && config['@type'] === HCM_TYPE) out.push(config);
      }
    }
  }
  return out;
}

/** The HTTP filters of one connection manager, as `{ name, config }`. */
export function httpFilters(hcm: Json): { name: string; config: Json }[] {
  return list(hcm['http_filters']).map((f) => {
    const name = dig(f, 'name');
    const config = dig(f, 'typed_config');
    return { name: typeof name === 'string' ? name : '', config: isJson(config) ? config : {} };
  });
}

/** Clusters by name. */
export function clusters(bootstrap: unknown): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const c of list(dig(bootstrap, 'static_resources', 'clusters'))) {
    const name = dig(c, 'name');
    if (isJson(c) && typeof name === 'string') out.set(name, c);
  }
  return out;
}

/** `host:port` of every endpoint of a cluster. */
export function endpointsOf(cluster: Json): string[] {
  const out: string[] = [];
  for (const group of list(dig(cluster, 'load_assignment', 'endpoints'))) {
    for (const lb of list(dig(group, 'lb_endpoints'))) {
      const sa = dig(lb, 'endpoint', 'address', 'socket_address');
      out.push(`${String(dig(sa, 'address'))}:${String(dig(sa, 'port_value'))}`);
    }
  }
  return out;
}

/** One route with the ext_authz settings Envoy would apply to it. */
export interface RouteView {
  readonly virtualHost: string;
  readonly name: string;
  readonly match: Json;
  readonly cluster: string | undefined;
  /** ext_authz disabled on this route (or its virtual host). */
  readonly authzDisabled: boolean;
  /** context_extensions after Envoy's merge: virtual host first, then the route (more specific wins). */
  readonly contextExtensions: Readonly<Record<string, string>>;
}

/** All routes of a connection manager's inline route_config. */
export function routesOf(hcm: Json): RouteView[] {
  const out: RouteView[] = [];
  for (const vh of list(dig(hcm, 'route_config', 'virtual_hosts'))) {
    const vhAuthz = dig(vh, 'typed_per_filter_config', EXT_AUTHZ_FILTER);
    for (const route of list(dig(vh, 'routes'))) {
      const routeAuthz = dig(route, 'typed_per_filter_config', EXT_AUTHZ_FILTER);
      const cluster = dig(route, 'route', 'cluster');
      out.push({
        virtualHost: String(dig(vh, 'name')),
        name: String(dig(route, 'name')),
        match: isJson(dig(route, 'match')) ? (dig(route, 'match') as Json) : {},
        cluster: typeof cluster === 'string' ? cluster : undefined,
        authzDisabled: dig(vhAuthz, 'disabled') === true || dig(routeAuthz, 'disabled') === true,
        contextExtensions: {
          ...stringMap(dig(vhAuthz, 'check_settings', 'context_extensions')),
          ...stringMap(dig(routeAuthz, 'check_settings', 'context_extensions')),
        },
      });
    }
  }
  return out;
}

/** The first route whose `prefix`/`path` match would take `path` (Envoy matches routes in order). */
export function routeFor(routes: readonly RouteView[], path: string): RouteView | undefined {
  return routes.find((r) => {
    const prefix = r.match['prefix'];
    const exact = r.match['path'];
    if (typeof exact === 'string') return path.split('?')[0] === exact;
    return typeof prefix === 'string' && path.startsWith(prefix);
  });
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isJson(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}
