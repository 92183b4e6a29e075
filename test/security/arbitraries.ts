/**
 * fast-check generators for the property tests: Istio AuthorizationPolicy objects over a small vocabulary (so rules
 * match often), requests and identities, plus the conversions into the service's model types.
 */
import fc from 'fast-check';
import type { Identity } from '../../src/model/identity.js';
import type { RequestAttributes } from '../../src/model/request.js';
import type { RefIdentity, RefPolicy, RefRequest, RefRule } from './reference-evaluator.js';

export const ROOT_NS = 'istio-system';
const ISS = 'https://issuer.test';

/** Property-test parameters: runs from PROPERTY_RUNS (default 200), seed from SEED (printed so a failure replays). */
export function propertyParams(name: string, factor = 1): { numRuns: number; seed: number } {
  const seed = process.env['SEED'] === undefined ? (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) | 0 : Number(process.env['SEED']);
  const numRuns = Number(process.env['PROPERTY_RUNS'] ?? 200) * factor;
  console.log(`${name}: seed ${seed} (replay with SEED=${seed}), ${numRuns} runs`);
  return { numRuns, seed };
}

const some = <T>(values: readonly T[], max = 3): fc.Arbitrary<T[]> => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: max });

/** Sets 1–2 of the given fields (each a non-empty list of values). */
function fields(spec: Readonly<Record<string, readonly string[]>>): fc.Arbitrary<Record<string, string[]>> {
  const entries = Object.entries(spec);
  return fc
    .uniqueArray(fc.constantFrom(...entries.map(([k]) => k)), { minLength: 1, maxLength: 2 })
    .chain((names) => fc.tuple(...names.map((n) => some(spec[n] ?? []))).map((vals) => Object.fromEntries(names.map((n, i) => [n, vals[i] ?? []]))));
}

const PRINCIPALS = ['*', `${ISS}/alice`, `${ISS}/*`, '*/alice', `${ISS}/a*`, '*ice', 'https://iss*', 'https://other.test/alice'];
const CIDRS = ['10.0.0.0/8', '10.0.0.1', '192.168.0.0/16', '0.0.0.0/0'];
const source = fields({ requestPrincipals: PRINCIPALS, notRequestPrincipals: PRINCIPALS, ipBlocks: CIDRS, notIpBlocks: CIDRS });
const HOSTS = ['a.test', 'A.Test', '*.test', 'a.*', '*', 'b.test:8080', 'b.test:*'];
const METHODS = ['GET', 'POST', 'G*', '*T', '*'];
const PATHS = ['/a', '/a/*', '*/b', '/a/b', '*', '/a/{*}', '/a/{**}', '/{*}/b'];
const PORTS = ['8080', '9090'];
const operation = fields({ hosts: HOSTS, notHosts: HOSTS, methods: METHODS, notMethods: METHODS, paths: PATHS, notPaths: PATHS, ports: PORTS, notPorts: PORTS });

const CONDITIONS: Readonly<Record<string, readonly string[]>> = {
  'request.headers[x-a]': ['x', 'x*', '*x', '*', 'y'],
  'request.headers[X-B]': ['1', '*'],
  'request.auth.claims[groups]': ['admin', 'adm*', '*min', '*', 'dev'],
  'request.auth.claims[org][team]': ['core', 'c*', '*'],
  'request.auth.principal': PRINCIPALS,
  'source.ip': CIDRS,
  'destination.port': PORTS,
};
const condition = fc.constantFrom(...Object.keys(CONDITIONS)).chain((key) => {
  const vals = CONDITIONS[key] ?? [];
  return fc
    .oneof(
      some(vals).map((values) => ({ values })),
      some(vals).map((notValues) => ({ notValues })),
      fc.tuple(some(vals), some(vals)).map(([values, notValues]) => ({ values, notValues })),
    )
    .map((v) => ({ key, ...v }));
});

const rule: fc.Arbitrary<RefRule> = fc.record(
  {
    from: fc.array(source.map((s) => ({ source: s })), { minLength: 1, maxLength: 2 }),
    to: fc.array(operation.map((o) => ({ operation: o })), { minLength: 1, maxLength: 2 }),
    when: fc.array(condition, { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);

/** One AuthorizationPolicy (ALLOW may omit rules = deny all; DENY/AUDIT always have a rules list). */
export const policyArb: fc.Arbitrary<RefPolicy> = fc
  .record({
    name: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
    namespace: fc.constantFrom(ROOT_NS, ROOT_NS, 'foo', 'bar'),
    action: fc.constantFrom('ALLOW', 'ALLOW', 'DENY', 'AUDIT') as fc.Arbitrary<'ALLOW' | 'DENY' | 'AUDIT'>,
    rules: fc.option(fc.array(rule, { maxLength: 3 }), { nil: undefined, freq: 6 }),
  })
  .map(({ name, namespace, action, rules }) => ({
    metadata: { name, namespace },
    spec: action === 'ALLOW' ? { action, ...(rules === undefined ? {} : { rules }) } : { action, rules: rules ?? [{}] },
  }));

export const policiesArb = fc.array(policyArb, { minLength: 0, maxLength: 4 });

export const requestArb: fc.Arbitrary<RefRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT'),
  path: fc.constantFrom('/a', '/a/b', '/a/c', '/b', '/c/b', '/a/', '/a/b/c'),
  host: fc.constantFrom('a.test', 'A.TEST', 'b.test', 'b.test:8080', 'c.other', 'a.tes\u0442'),
  headers: fc.record({ 'x-a': fc.constantFrom('x', 'xy', 'yx', 'y', ''), 'x-b': fc.constantFrom('1', '2') }, { requiredKeys: [] }),
  sourceIp: fc.constantFrom('10.0.0.1', '10.1.2.3', '192.168.1.1', '172.16.0.1'),
  destinationPort: fc.constantFrom(8080, 9090),
  // Always known: how a request of unknown namespace is scoped is a deployment choice (see scope.ts), not §2.7.
  namespace: fc.constantFrom('foo', 'bar', 'baz'),
});

const claimValue = fc.oneof(fc.constantFrom('admin', 'dev', 'administrator', 'x admin'), fc.uniqueArray(fc.constantFrom('admin', 'dev', 'ops'), { maxLength: 3 }), fc.constant(5), fc.constant(true));
export const identityArb: fc.Arbitrary<RefIdentity | undefined> = fc.option(
  fc.record({
    iss: fc.constantFrom(ISS, 'https://other.test'),
    sub: fc.constantFrom('alice', 'bob', '', undefined),
    claims: fc.record({ groups: claimValue, org: fc.oneof(fc.record({ team: fc.constantFrom('core', 'edge') }), fc.constant('flat')) }, { requiredKeys: [] }),
  }),
  { nil: undefined, freq: 3 },
);

/** The YAML-shaped object of a reference policy, as a policy file would hold it. */
export function toDocumentBody(p: RefPolicy): Record<string, unknown> {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: p.metadata, spec: p.spec };
}

/** RefRequest → RequestAttributes as `grpc/to-request-attributes` would build it. */
export function toAttributes(r: RefRequest): RequestAttributes {
  return {
    method: r.method,
    scheme: 'http',
    host: r.host,
    path: r.path,
    headers: new Map(Object.entries(r.headers).map(([k, v]) => [k, [v]])),
    source: { address: r.sourceIp, port: 40000, principal: '' },
    destination: { address: '10.0.0.2', port: r.destinationPort, principal: '' },
    contextExtensions: new Map(r.namespace === undefined ? [] : [['namespace', r.namespace]]),
    requestId: 'prop',
    sni: '',
  };
}

/** RefIdentity → Identity as verify-token would build it (no space-delimited claims are generated). */
export function toIdentity(id: RefIdentity | undefined): Identity | undefined {
  if (id === undefined) return undefined;
  const claims: Record<string, unknown> = { iss: id.iss, ...(id.sub === undefined ? {} : { sub: id.sub }), ...id.claims };
  return {
    issuer: id.iss,
    subject: id.sub === '' ? undefined : id.sub,
    audiences: [],
    claims,
    matchClaims: claims,
    payloadSegment: '',
    providerId: 'prop',
    notAfter: Infinity,
    notBefore: -Infinity,
  };
}
