/**
 * deploy/docker-compose: services, ports, volumes and names agree with each other, with the compose Envoy
 * bootstrap, with the Dockerfile and with the demo policies (which compile with the real compiler).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildSnapshot } from '../../../src/policy/compile-policies.js';
import { DEFAULT_COMPILE_OPTIONS } from '../../../src/policy/dialects/types.js';
import { clusters, dig, endpointsOf, httpConnectionManagers, isJson, list, readYaml, routesOf } from './envoy-config.js';
import { execForm, readDockerfile } from './dockerfile.js';
import { flagsOf, readManifests } from './manifests.js';

const DIR = 'deploy/docker-compose';
// Compose files use YAML merge keys (`<<: *node-image`).
const compose: unknown = parse(readFileSync(join(DIR, 'docker-compose.yaml'), 'utf8'), { merge: true });
const services = dig(compose, 'services');
const svc = (name: string): Record<string, unknown> => {
  const s = dig(services, name);
  if (!isJson(s)) throw new Error(`no service ${name}`);
  return s;
};
const env = (name: string, key: string): string => String(dig(svc(name), 'environment', key));
const envoyBootstrap = readYaml(join(DIR, 'envoy.yaml'));
const dockerfile = readDockerfile('Dockerfile');
const imageEntrypoint = execForm(dockerfile.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)?.args ?? '') ?? [];
const authzFlags = flagsOf([...imageEntrypoint, ...list(dig(svc('authz'), 'command'))]);

/** `host:container` mounts of a service, the host side resolved against the compose folder. */
function mounts(name: string): { host: string; target: string; readOnly: boolean }[] {
  return list(dig(svc(name), 'volumes')).map((v) => {
    const [host = '', target = '', mode = ''] = String(v).split(':');
    return { host: resolve(DIR, host), target, readOnly: mode === 'ro' };
  });
}

describe('docker-compose.yaml', () => {
  it('has the four demo services', () => {
    expect(Object.keys(isJson(services) ? services : {}).sort()).toEqual(['authz', 'echo', 'envoy', 'issuer']);
  });

  it('mounts only files that exist, read-only', () => {
    for (const name of ['authz', 'echo', 'envoy', 'issuer']) {
      for (const m of mounts(name)) {
        expect(existsSync(m.host), `${name}: ${m.host}`).toBe(true);
        expect(m.readOnly, `${name}: ${m.target}`).toBe(true);
      }
    }
  });

  it('builds the service image from the repository Dockerfile', () => {
    const context = resolve(DIR, String(dig(svc('authz'), 'build', 'context')));
    expect(existsSync(join(context, String(dig(svc('authz'), 'build', 'dockerfile'))))).toBe(true);
    expect(resolve(context)).toBe(resolve('.'));
  });

  it('mounts ./policies where the image entrypoint reads policies', () => {
    expect(mounts('authz')).toContainEqual({ host: resolve(DIR, 'policies'), target: authzFlags.get('--policies'), readOnly: true });
  });

  it('runs the demo scripts under /app so that `import "jose"` resolves from the image node_modules', () => {
    for (const name of ['issuer', 'echo']) {
      const script = list(dig(svc(name), 'entrypoint'))[1];
      expect(String(script)).toMatch(/^\/app\/demo\/\w+\.mjs$/);
      expect(mounts(name).map((m) => m.target)).toContain(script);
    }
  });

  it('publishes ports on loopback only, matching what each process binds', () => {
    const published = (name: string): string[] => list(dig(svc(name), 'ports')).map(String);
    expect(published('envoy')).toEqual(['127.0.0.1:8000:8000']);
    expect(published('issuer')).toEqual([`127.0.0.1:${env('issuer', 'ISSUER_PORT')}:${env('issuer', 'ISSUER_PORT')}`]);
    expect(published('authz')).toEqual([`127.0.0.1:${String(authzFlags.get('--http-port'))}:${String(authzFlags.get('--http-port'))}`]);
    const listener = dig(envoyBootstrap, 'static_resources', 'listeners', 0, 'address', 'socket_address', 'port_value');
    expect(listener).toBe(8000);
    expect(authzFlags.get('--host')).toBe('0.0.0.0');
    expect(env('issuer', 'ISSUER_HOST')).toBe('0.0.0.0');
    expect(env('echo', 'ECHO_HOST')).toBe('0.0.0.0');
  });

  it('only depends on services it defines, and the gateway waits for a healthy authz', () => {
    for (const [name, s] of Object.entries(isJson(services) ? services : {})) {
      for (const dep of Object.keys(isJson(dig(s, 'depends_on')) ? (dig(s, 'depends_on') as object) : {})) {
        expect(Object.keys(isJson(services) ? services : {}), `${name} depends on ${dep}`).toContain(dep);
      }
    }
    expect(dig(svc('envoy'), 'depends_on', 'authz', 'condition')).toBe('service_healthy');
  });

  it('health-checks authz through the Dockerfile HEALTHCHECK on the port it binds', () => {
    const hc = dockerfile.filter((i) => i.keyword === 'HEALTHCHECK').at(-1)?.args ?? '';
    expect(hc).toContain(`127.0.0.1:${String(authzFlags.get('--http-port'))}/healthz`);
    expect(dig(svc('authz'), 'healthcheck')).toBeUndefined();
  });

  it('runs every container read-only without capabilities', () => {
    for (const name of ['authz', 'echo', 'envoy', 'issuer']) {
      expect(dig(svc(name), 'read_only'), name).toBe(true);
      expect(dig(svc(name), 'cap_drop'), name).toEqual(['ALL']);
    }
  });
});

describe('compose envoy.yaml', () => {
  const [hcm] = httpConnectionManagers(envoyBootstrap);

  it('mounts the compose bootstrap as /etc/envoy/envoy.yaml', () => {
    expect(mounts('envoy')).toContainEqual({ host: resolve(DIR, 'envoy.yaml'), target: '/etc/envoy/envoy.yaml', readOnly: true });
    expect(list(dig(svc('envoy'), 'command'))).toEqual(expect.arrayContaining(['-c', '/etc/envoy/envoy.yaml']));
  });

  it('reaches the service and the echo upstream by compose service name and bound port', () => {
    const byName = clusters(envoyBootstrap);
    const authzCluster = dig(httpConnectionManagers(envoyBootstrap)[0], 'http_filters', 0, 'typed_config', 'grpc_service', 'envoy_grpc', 'cluster_name');
    expect(endpointsOf(byName.get(String(authzCluster)) ?? {})).toEqual([`authz:${String(authzFlags.get('--grpc-port'))}`]);
    const upstreams = new Set(routesOf(hcm ?? {}).map((r) => r.cluster));
    expect([...upstreams]).toEqual(['upstream']);
    expect(endpointsOf(byName.get('upstream') ?? {})).toEqual([`echo:${env('echo', 'ECHO_PORT')}`]);
  });

  it('sends the context_extensions the demo policies select on', () => {
    const checked = routesOf(hcm ?? {}).filter((r) => !r.authzDisabled);
    const labels = readManifests(join(DIR, 'policies')).map((m) => dig(m.body, 'spec', 'selector', 'matchLabels'));
    expect(labels.length).toBeGreaterThan(0);
    for (const r of checked) {
      for (const l of labels) {
        for (const [k, v] of Object.entries(isJson(l) ? l : {})) expect(r.contextExtensions[k], `${r.name}: ${k}`).toBe(v);
      }
    }
  });
});

describe('demo policies', () => {
  it('trust the issuer the compose file runs, at its jwks.json', () => {
    const rules = readManifests(join(DIR, 'policies')).flatMap((m) => list(dig(m.body, 'spec', 'jwtRules')));
    expect(rules).toHaveLength(1);
    expect(dig(rules[0], 'issuer')).toBe(env('issuer', 'ISSUER_URL'));
    expect(dig(rules[0], 'jwksUri')).toBe(`${env('issuer', 'ISSUER_URL')}/.well-known/jwks.json`);
    expect(env('issuer', 'ISSUER_URL')).toBe(`http://issuer:${env('issuer', 'ISSUER_PORT')}`);
  });

  it('compile with the service compiler', () => {
    const result = buildSnapshot(join(DIR, 'policies'), { ...DEFAULT_COMPILE_OPTIONS, rootNamespace: String(authzFlags.get('--root-namespace')) });
    expect(result.ok ? [] : result.issues).toEqual([]);
    expect(result.ok && result.snapshot.authorizationPolicies.map((p) => p.action)).toEqual(['DENY']);
  });
});
