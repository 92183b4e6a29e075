/**
 * deploy/istio: the Kubernetes manifests agree with each other, with the CLI flags the service takes, and with
 * the meshConfig provider Istio uses to reach it. The policies in the ConfigMap compile with the real compiler.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../../src/policy/compile-policies.js';
import type { ConfigIssue } from '../../../src/policy/config-issue.js';
import { DEFAULT_COMPILE_OPTIONS } from '../../../src/policy/dialects/types.js';
import { type RawDocument, parseText } from '../../../src/policy/read-documents.js';
import { dig, isJson, list } from './envoy-config.js';
import { flagsOf, ofKind, readManifests, resolvePort, selects, yamlFiles } from './manifests.js';
import { durationNanos } from './proto-json-scalars.js';

const DIR = 'deploy/istio';
const all = readManifests(DIR);
const one = (kind: string): Record<string, unknown> => {
  const found = ofKind(all, kind);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind} in ${DIR}, found ${found.length}`);
  return found[0]?.body ?? {};
};

const deployment = one('Deployment');
const podSpec = dig(deployment, 'spec', 'template', 'spec');
const podLabels = dig(deployment, 'spec', 'template', 'metadata', 'labels');
const container = list(dig(podSpec, 'containers'))[0];
const containerPorts = list(dig(container, 'ports'));
const flags = flagsOf(list(dig(container, 'args')));
const service = one('Service');
const namespace = String(dig(deployment, 'metadata', 'namespace'));

describe('Deployment', () => {
  it('runs `node dist/cli.js serve` with every flag it relies on', () => {
    expect(dig(container, 'command')).toEqual(['node', 'dist/cli.js', 'serve']);
    expect([...flags.keys()].sort()).toEqual(['--grpc-port', '--host', '--http-port', '--log-level', '--policies', '--root-namespace']);
    expect(flags.get('--host')).toBe('0.0.0.0');
    expect(flags.get('--root-namespace')).toBe('istio-system');
  });

  it('names its container ports after the --grpc-port and --http-port flags', () => {
    expect(resolvePort('grpc', containerPorts)).toBe(Number(flags.get('--grpc-port')));
    expect(resolvePort('http', containerPorts)).toBe(Number(flags.get('--http-port')));
  });

  it.each([
    { probe: 'livenessProbe', path: '/healthz' },
    { probe: 'readinessProbe', path: '/readyz' },
    { probe: 'startupProbe', path: '/healthz' },
  ])('$probe GETs $path on the HTTP port', ({ probe, path }) => {
    expect(dig(container, probe, 'httpGet', 'path')).toBe(path);
    expect(resolvePort(dig(container, probe, 'httpGet', 'port'), containerPorts)).toBe(Number(flags.get('--http-port')));
  });

  it('mounts the policies ConfigMap read-only where --policies points', () => {
    const mount = list(dig(container, 'volumeMounts')).find((m) => dig(m, 'mountPath') === flags.get('--policies'));
    expect(mount, `a volumeMount at ${String(flags.get('--policies'))}`).toBeDefined();
    expect(dig(mount, 'readOnly')).toBe(true);
    const volume = list(dig(podSpec, 'volumes')).find((v) => dig(v, 'name') === dig(mount, 'name'));
    const configMapName = dig(volume, 'configMap', 'name');
    expect(typeof configMapName).toBe('string');
    const cm = ofKind(all, 'ConfigMap', String(configMapName));
    expect(cm).toHaveLength(1);
    expect(dig(cm[0]?.body, 'metadata', 'namespace')).toBe(namespace);
  });

  it('runs as a non-root user with a read-only root filesystem and no capabilities', () => {
    expect(dig(podSpec, 'securityContext', 'runAsNonRoot')).toBe(true);
    expect(Number(dig(podSpec, 'securityContext', 'runAsUser'))).toBeGreaterThan(0);
    expect(dig(podSpec, 'securityContext', 'seccompProfile', 'type')).toBe('RuntimeDefault');
    expect(dig(container, 'securityContext', 'readOnlyRootFilesystem')).toBe(true);
    expect(dig(container, 'securityContext', 'allowPrivilegeEscalation')).toBe(false);
    expect(dig(container, 'securityContext', 'capabilities', 'drop')).toEqual(['ALL']);
    expect(dig(podSpec, 'automountServiceAccountToken')).toBe(false);
  });

  it('requests CPU and memory (the HPA scales on CPU utilisation) and limits memory', () => {
    expect(dig(container, 'resources', 'requests', 'cpu')).toMatch(/^\d+m?$/);
    expect(dig(container, 'resources', 'requests', 'memory')).toMatch(/^\d+Mi$/);
    expect(dig(container, 'resources', 'limits', 'memory')).toMatch(/^\d+Mi$/);
  });

  it('selects its own pods and uses an existing ServiceAccount', () => {
    expect(selects(dig(deployment, 'spec', 'selector', 'matchLabels'), podLabels)).toBe(true);
    expect(ofKind(all, 'ServiceAccount', String(dig(podSpec, 'serviceAccountName')))).toHaveLength(1);
  });
});

describe('Service, PodDisruptionBudget, HorizontalPodAutoscaler', () => {
  it('Service selects the pods and exposes grpc (appProtocol grpc) and http on the flag ports', () => {
    expect(selects(dig(service, 'spec', 'selector'), podLabels)).toBe(true);
    const ports = list(dig(service, 'spec', 'ports'));
    const grpc = ports.find((p) => dig(p, 'name') === 'grpc');
    const http = ports.find((p) => dig(p, 'name') === 'http');
    expect(dig(grpc, 'appProtocol')).toBe('grpc');
    expect(resolvePort(dig(grpc, 'targetPort'), containerPorts)).toBe(Number(flags.get('--grpc-port')));
    expect(resolvePort(dig(http, 'targetPort'), containerPorts)).toBe(Number(flags.get('--http-port')));
  });

  it('PodDisruptionBudget selects the Deployment pods with the Deployment selector', () => {
    const pdb = one('PodDisruptionBudget');
    expect(dig(pdb, 'spec', 'selector', 'matchLabels')).toEqual(dig(deployment, 'spec', 'selector', 'matchLabels'));
    expect(selects(dig(pdb, 'spec', 'selector', 'matchLabels'), podLabels)).toBe(true);
    expect(Number(dig(pdb, 'spec', 'minAvailable'))).toBeLessThan(Number(dig(deployment, 'spec', 'replicas')));
  });

  it('HorizontalPodAutoscaler targets the Deployment and never goes below two replicas', () => {
    const hpa = one('HorizontalPodAutoscaler');
    expect(dig(hpa, 'spec', 'scaleTargetRef')).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: dig(deployment, 'metadata', 'name') });
    expect(dig(hpa, 'metadata', 'namespace')).toBe(namespace);
    expect(Number(dig(hpa, 'spec', 'minReplicas'))).toBeGreaterThanOrEqual(2);
  });

  it('puts every namespaced object of the service into the Namespace it creates', () => {
    const ns = one('Namespace');
    expect(dig(ns, 'metadata', 'name')).toBe(namespace);
    for (const m of all.filter((x) => x.file.startsWith(`${DIR}/service/`) && x.body['kind'] !== 'Namespace' && x.body['kind'] !== 'Kustomization')) {
      expect(dig(m.body, 'metadata', 'namespace'), `${m.file}`).toBe(namespace);
    }
  });
});

describe('Istio wiring', () => {
  const providers = all
    .filter((m) => m.file.startsWith(`${DIR}/mesh/`))
    .map((m) => ({ file: m.file, list: list(dig(m.body, 'spec', 'meshConfig', 'extensionProviders')).concat(list(dig(m.body, 'meshConfig', 'extensionProviders'))) }));

  it('declares the same provider in the IstioOperator and the Helm values', () => {
    expect(providers.map((p) => basename(p.file)).sort()).toEqual(['helm-values.yaml', 'istio-operator.yaml']);
    expect(providers[0]?.list).toHaveLength(1);
    expect(providers[1]?.list).toEqual(providers[0]?.list);
  });

  it('points the provider at the Service FQDN and its grpc port, fails closed, with a short timeout', () => {
    const grpc = dig(providers[0]?.list[0], 'envoyExtAuthzGrpc');
    const fqdn = `${String(dig(service, 'metadata', 'name'))}.${String(dig(service, 'metadata', 'namespace'))}.svc.cluster.local`;
    expect(dig(grpc, 'service')).toBe(fqdn);
    const grpcPort = list(dig(service, 'spec', 'ports')).find((p) => dig(p, 'name') === 'grpc');
    expect(dig(grpc, 'port')).toBe(dig(grpcPort, 'port'));
    expect(dig(grpc, 'failOpen')).toBe(false);
    const nanos = durationNanos(String(dig(grpc, 'timeout')));
    expect(nanos).toBeDefined();
    expect(Number(nanos)).toBeLessThanOrEqual(2e9);
  });

  it('CUSTOM AuthorizationPolicies name that provider and match every request', () => {
    const name = dig(providers[0]?.list[0], 'name');
    const custom = ofKind(all, 'AuthorizationPolicy').filter((m) => dig(m.body, 'spec', 'action') === 'CUSTOM');
    expect(custom.map((m) => basename(m.file)).sort()).toEqual(['ingress-gateway-custom-policy.yaml', 'workload-custom-policy.yaml']);
    for (const m of custom) {
      expect(dig(m.body, 'spec', 'provider', 'name'), m.file).toBe(name);
      expect(dig(m.body, 'spec', 'rules'), m.file).toEqual([{}]);
    }
  });
});

describe('policies ConfigMap', () => {
  const cm = ofKind(all, 'ConfigMap', 'envoy-jwt-authz-policies')[0]?.body;
  const data = dig(cm, 'data');

  it('holds policy documents that compile without errors, none with a selector', () => {
    expect(isJson(data) && Object.keys(data).length).toBeGreaterThan(0);
    const documents: RawDocument[] = [];
    const issues: ConfigIssue[] = [];
    for (const [key, text] of Object.entries(isJson(data) ? data : {})) {
      expect(key).toMatch(/\.ya?ml$/);
      parseText(key, String(text), documents, issues);
    }
    // Under Istio no context_extensions arrive, so a selector would never match (see the ConfigMap comment).
    for (const d of documents) expect(dig(d.body, 'spec', 'selector'), d.file).toBeUndefined();
    const result = compilePolicies(documents, DEFAULT_COMPILE_OPTIONS, 'k8s-manifests-test');
    const errors = result.ok ? [] : result.issues.filter((i) => i.severity === 'error');
    expect([...issues, ...errors]).toEqual([]);
    expect(result.ok).toBe(true);
  });
});

describe('kustomization', () => {
  const kustomization = all.find((m) => m.body['kind'] === 'Kustomization');
  const dir = dirname(kustomization?.file ?? '');

  it('lists every manifest of its folder', () => {
    const resources = list(dig(kustomization?.body, 'resources')).map(String).sort();
    const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
    expect(resources).toEqual(files);
    expect(yamlFiles(dir)).toHaveLength(files.length + 1);
  });

  let kubectl = false;
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    kubectl = true;
  } catch {
    kubectl = false;
  }
  it.skipIf(!kubectl)('builds with `kubectl kustomize` (offline) into the same objects', () => {
    const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    const kinds = [...out.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]).sort();
    const expected = all.filter((m) => m.file.startsWith(join(dir, '/')) && m.body['kind'] !== 'Kustomization').map((m) => String(m.body['kind'])).sort();
    expect(kinds).toEqual(expected);
  });
});
