/**
 * Which requests an AccessControlPolicy governs: the HTTPRoute it targets, with Gateway API match semantics
 * (apis/v1/httproute_types.go) and precedence between routes on the same parent.
 */
import { describe, expect, it } from 'vitest';
import type { SnapshotFragment } from '../../../../../src/model/policy.js';
import { FILES, type RequestSpec, acp, compileOk, policiesFor, preamble, request } from './harness.js';

/** An HTTPRoute document. */
function route(name: string, spec: string, meta = ''): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}${meta} }
spec:
${spec.replace(/^/gm, '  ')}
`;
}

/** A public ACP on route `name` (its OrderedPolicy is named after the route). */
function on(name: string): string {
  return acp('- authorization: {}', `acp-${name}`, `[{ group: gateway.networking.k8s.io, kind: HTTPRoute, name: ${name} }]`);
}

interface Case {
  readonly name: string;
  readonly path: string;
  readonly req?: RequestSpec;
  /** Routes whose policy applies. */
  readonly expected: readonly string[];
}

function run(fragment: SnapshotFragment, cases: readonly Case[]): void {
  it.each(cases)('$name', ({ path, req, expected }) => {
    const names = policiesFor(fragment, request(path, req)).map((n) => /HTTPRoute default\/(\S+)/.exec(n)?.[1]);
    expect(names.sort()).toEqual([...expected].sort());
  });
}

const single = compileOk(
  preamble(undefined, `hostnames: [api.example.com, '*.apps.example.com']
  rules:
    - matches:
        - path: { type: PathPrefix, value: /shop/ }
        - path: { type: Exact, value: /health }
          method: GET
    - matches:
        - path: { type: RegularExpression, value: '/v[0-9]+/items' }
          headers: [{ name: X-Version, value: beta }]
          queryParams: [{ name: debug, value: '1' }]`) + on('backend'),
  FILES,
);

describe('one route: hostnames and the OR of its matches', () => {
  run(single, [
    { name: 'PathPrefix matches the prefix itself without the trailing slash', path: '/shop', expected: ['backend'] },
    { name: 'PathPrefix matches below the prefix', path: '/shop/cart/1', expected: ['backend'] },
    { name: 'PathPrefix matches whole segments only', path: '/shopping', expected: [] },
    { name: 'Exact with method: both must hold', path: '/health', expected: ['backend'] },
    { name: 'Exact with method: another method is not routed here', path: '/health', req: { method: 'POST' }, expected: [] },
    { name: 'Exact does not match a trailing slash', path: '/health/', expected: [] },
    { name: 'regex, header and query param together', path: '/v2/items?debug=1', req: { headers: { 'x-version': 'beta' } }, expected: ['backend'] },
    { name: 'a missing query param fails the match', path: '/v2/items', req: { headers: { 'x-version': 'beta' } }, expected: [] },
    { name: 'header values are case-sensitive', path: '/v2/items?debug=1', req: { headers: { 'x-version': 'Beta' } }, expected: [] },
    { name: 'the port of the authority is ignored', path: '/shop', req: { host: 'api.example.com:8443' }, expected: ['backend'] },
    { name: 'hostnames are case-insensitive', path: '/shop', req: { host: 'API.Example.com' }, expected: ['backend'] },
    { name: 'a wildcard hostname matches one label', path: '/shop', req: { host: 'a.apps.example.com' }, expected: ['backend'] },
    { name: 'a wildcard hostname matches several labels', path: '/shop', req: { host: 'a.b.apps.example.com' }, expected: ['backend'] },
    { name: 'a wildcard hostname does not match its own suffix', path: '/shop', req: { host: 'apps.example.com' }, expected: [] },
    { name: 'another host is not routed here', path: '/shop', req: { host: 'other.example.com' }, expected: [] },
  ]);
});

const defaults = compileOk(preamble(undefined, 'rules: [{ matches: [{ headers: [{ name: x-a, value: "1" }, { name: X-A, value: "2" }] }] }]') + on('backend'), FILES);

describe('defaults', () => {
  run(defaults, [
    { name: 'a match without path is PathPrefix /', path: '/anything', req: { headers: { 'x-a': '1' } }, expected: ['backend'] },
    { name: 'only the first of two equivalent header names counts', path: '/', req: { headers: { 'x-a': '2' } }, expected: [] },
  ]);
});

const precedence = compileOk(
  preamble(undefined, 'rules: [{ matches: [{ path: { type: PathPrefix, value: / } }] }]') +
    on('backend') +
    route('api', 'parentRefs: [{ name: gw }]\nrules: [{ matches: [{ path: { type: PathPrefix, value: /api } }] }]') +
    route('api-exact', 'parentRefs: [{ name: gw }]\nrules: [{ matches: [{ path: { type: Exact, value: /api/login } }] }]') +
    on('api-exact') +
    route('api-post', 'parentRefs: [{ name: gw }]\nrules: [{ matches: [{ path: { type: PathPrefix, value: /api }, method: POST }] }]') +
    on('api-post') +
    route('host', 'parentRefs: [{ name: gw }]\nhostnames: [admin.example.com]\nrules: [{ matches: [{ path: { type: PathPrefix, value: /admin } }] }]') +
    on('host') +
    route('regex', 'parentRefs: [{ name: gw }]\nrules: [{ matches: [{ path: { type: RegularExpression, value: "/api/v[0-9]+" } }] }]') +
    on('regex') +
    route('elsewhere', 'parentRefs: [{ name: other-gw }]\nrules: [{ matches: [{ path: { type: PathPrefix, value: /api } }] }]') +
    on('elsewhere'),
  FILES,
);

describe('precedence between routes on the same parent', () => {
  run(precedence, [
    { name: 'a longer prefix on another route takes the request (even one without a policy)', path: '/api/orders', expected: ['elsewhere'] },
    { name: 'the catch-all route keeps what no more specific route matches', path: '/shop', expected: ['backend'] },
    { name: 'an Exact match beats every prefix', path: '/api/login', expected: ['api-exact', 'elsewhere'] },
    { name: 'a method match beats an equal prefix without one', path: '/api/orders', req: { method: 'POST' }, expected: ['api-post', 'elsewhere'] },
    { name: 'a matching hostname beats a route without hostnames', path: '/admin/x', req: { host: 'admin.example.com' }, expected: ['host'] },
    { name: 'a more specific hostname only takes what it matches', path: '/shop', req: { host: 'admin.example.com' }, expected: ['backend'] },
    { name: 'regex precedence is implementation-specific: both policies apply', path: '/api/v2', expected: ['regex', 'elsewhere'] },
    { name: 'routes on different parents never compete', path: '/api/x', req: { method: 'POST' }, expected: ['api-post', 'elsewhere'] },
  ]);
});

const ties = compileOk(
  route('b', 'parentRefs: [{ name: gw }]\nrules: [{ matches: [{ path: { value: /x } }] }]', ", creationTimestamp: '2024-01-01T00:00:00Z'") +
    on('b') +
    route('a', 'parentRefs: [{ name: gw }]\nrules: [{ matches: [{ path: { value: /x } }] }]', ", creationTimestamp: '2024-06-01T00:00:00Z'") +
    on('a') +
    route('c', 'parentRefs: [{ name: gw2 }]\nrules: [{ matches: [{ path: { value: /y } }] }]') +
    on('c') +
    route('d', 'parentRefs: [{ name: gw2 }]\nrules: [{ matches: [{ path: { value: /y } }] }]') +
    on('d'),
  FILES,
);

describe('ties between identical matches', () => {
  run(ties, [
    { name: 'the older route wins', path: '/x', expected: ['b'] },
    { name: 'without timestamps, the first namespace/name in alphabetical order wins', path: '/y', expected: ['c'] },
  ]);
});

const hosts = compileOk(
  route('wild', "parentRefs: [{ name: gw }]\nhostnames: ['*.example.com']\nrules: [{ matches: [{ path: { type: Exact, value: /x } }] }]") +
    on('wild') +
    route('deep', "parentRefs: [{ name: gw }]\nhostnames: ['*.eu.example.com']") +
    on('deep') +
    route('exact', 'parentRefs: [{ name: gw }]\nhostnames: [admin.example.com]') +
    on('exact'),
  FILES,
);

describe('hostname precedence', () => {
  run(hosts, [
    { name: 'an exact hostname beats a wildcard, whatever the path match', path: '/x', req: { host: 'admin.example.com' }, expected: ['exact'] },
    { name: 'a longer wildcard beats a shorter one', path: '/x', req: { host: 'shop.eu.example.com' }, expected: ['deep'] },
    { name: 'the short wildcard keeps the other hosts', path: '/x', req: { host: 'shop.example.com' }, expected: ['wild'] },
    { name: 'a path the wildcard route does not match is not routed to it', path: '/y', req: { host: 'shop.example.com' }, expected: [] },
  ]);
});
