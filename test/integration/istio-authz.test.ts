import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestEngine, type TestRequest, engineFor, statusOf } from '../helpers/engine.js';
import { type TestKey, generateTestKey, mintToken } from '../helpers/tokens.js';

// AuthorizationPolicy semantics (semantics.md §2): actions, rule algebra, every source/operation/when field.
const ISS = 'https://issuer.test';
let k1: TestKey;
const tokens: Record<string, string> = {};

function header(): string {
  return `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ra, namespace: istio-system}
spec:
  jwtRules:
  - issuer: ${ISS}
    jwks: '${JSON.stringify({ keys: [k1.publicJwk] })}'
---
`;
}

function ap(spec: string, meta = 'name: p, namespace: istio-system'): string {
  return `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {${meta}}\nspec:\n${spec.replace(/^/gm, '  ')}\n---\n`;
}

type Row = { name: string; req: TestRequest; token?: string; status: number };

function req(r: Row): TestRequest {
  const t = r.token === undefined ? undefined : tokens[r.token];
  if (r.token !== undefined && t === undefined) throw new Error(`no token ${r.token}`);
  return t === undefined ? r.req : { ...r.req, headers: { ...r.req.headers, authorization: `Bearer ${t}` } };
}

beforeAll(async () => {
  k1 = await generateTestKey('RS256', 'k1');
  tokens['alice'] = await mintToken(k1, { iss: ISS, sub: 'alice', groups: ['dev', 'ops'], role: 'admin', level: 3, admin: true, scope: 'read write', scp: 'read write', aud: ['api', 'web'], azp: 'cli', realm: { roles: ['r1'] } });
  tokens['bob'] = await mintToken(k1, { iss: ISS, sub: 'bob', groups: 'dev' });
  tokens['nosub'] = await mintToken(k1, { iss: ISS });
  tokens['slash'] = await mintToken(k1, { iss: ISS, sub: 'repo:org/app' });
});

function table(title: string, policies: () => string, rows: Row[]): void {
  describe(title, () => {
    let e: TestEngine;
    beforeAll(() => {
      e = engineFor(header() + policies());
    });
    afterAll(() => e.close());
    it.each(rows)('$name', async (row) => {
      const d = await e.decide(req(row));
      expect(statusOf(d), JSON.stringify(d)).toBe(row.status);
    });
  });
}

table('no AuthorizationPolicy: everything allowed', () => '', [
  { name: 'anonymous request is allowed', req: { path: '/x' }, status: 200 },
  { name: 'authenticated request is allowed', req: { path: '/x' }, token: 'alice', status: 200 },
]);

table('spec: {} denies all; rules [{}] allows all; DENY [{}] denies all', () => ap('{}', 'name: deny-all, namespace: a') + ap('rules: [{}]', 'name: allow-all, namespace: b') + ap('action: DENY\nrules: [{}]', 'name: deny, namespace: c'), [
  { name: 'ALLOW without rules denies (namespace a)', req: { contextExtensions: { namespace: 'a' } }, status: 403 },
  { name: 'ALLOW rules [{}] allows (namespace b)', req: { contextExtensions: { namespace: 'b' } }, status: 200 },
  { name: 'DENY rules [{}] denies (namespace c)', req: { contextExtensions: { namespace: 'c' } }, status: 403 },
  { name: 'namespace without policies is allowed', req: { contextExtensions: { namespace: 'd' } }, status: 200 },
  { name: 'unknown namespace: every namespace applies (fail closed)', req: {}, status: 403 },
  { name: 'namespace from the destination SPIFFE principal', req: { destinationPrincipal: 'spiffe://cluster.local/ns/b/sa/web' }, status: 200 },
]);

table(
  'DENY wins over ALLOW; ALLOW must match when present; AUDIT and dry-run never decide',
  () =>
    ap('rules:\n- to: [{operation: {paths: ["/health", "/admin/*"]}}]', 'name: allow') +
    ap('action: DENY\nrules:\n- to: [{operation: {paths: ["/admin/*"]}}]', 'name: deny') +
    ap('action: AUDIT\nrules:\n- to: [{operation: {paths: ["/health"]}}]', 'name: audit') +
    ap('action: DENY\nrules:\n- to: [{operation: {paths: ["/health"]}}]', 'name: shadow, namespace: istio-system, annotations: {istio.io/dry-run: "true"}'),
  [
    { name: 'allowed path', req: { path: '/health' }, status: 200 },
    { name: 'path matched by both ALLOW and DENY is denied', req: { path: '/admin/x' }, status: 403 },
    { name: 'path matched by no ALLOW is denied', req: { path: '/orders' }, status: 403 },
    { name: 'query string is not part of the path', req: { path: '/health?x=/admin/y' }, status: 200 },
  ],
);

table(
  'request principals (Istio ≥ 1.21 split matching, semantics §1.5)',
  () =>
    ap(`rules:\n- from: [{source: {requestPrincipals: ["*"]}}]\n  to: [{operation: {paths: ["/any"]}}]\n- from: [{source: {requestPrincipals: ["${ISS}/alice"]}}]\n  to: [{operation: {paths: ["/alice"]}}]\n- from: [{source: {requestPrincipals: ["${ISS}/*"]}}]\n  to: [{operation: {paths: ["/iss"]}}]\n- from: [{source: {requestPrincipals: ["*/bob"]}}]\n  to: [{operation: {paths: ["/bob"]}}]\n- from: [{source: {requestPrincipals: ["${ISS}/b*"]}}]\n  to: [{operation: {paths: ["/b-prefix"]}}]\n- from: [{source: {requestPrincipals: ["${ISS}/repo:org/app"]}}]\n  to: [{operation: {paths: ["/slash"]}}]\n- from: [{source: {notRequestPrincipals: ["*"]}}]\n  to: [{operation: {paths: ["/anon"]}}]`),
  [
    { name: '"*" matches a token with sub', req: { path: '/any' }, token: 'alice', status: 200 },
    { name: '"*" does not match without a token', req: { path: '/any' }, status: 403 },
    { name: '"*" does not match a token without sub', req: { path: '/any' }, token: 'nosub', status: 403 },
    { name: 'exact iss/sub matches', req: { path: '/alice' }, token: 'alice', status: 200 },
    { name: 'exact iss/sub rejects another sub', req: { path: '/alice' }, token: 'bob', status: 403 },
    { name: 'iss/* matches any sub of that issuer', req: { path: '/iss' }, token: 'bob', status: 200 },
    { name: '*/bob matches sub bob', req: { path: '/bob' }, token: 'bob', status: 200 },
    { name: 'iss/b* is a sub prefix', req: { path: '/b-prefix' }, token: 'bob', status: 200 },
    { name: 'iss/b* does not match alice', req: { path: '/b-prefix' }, token: 'alice', status: 403 },
    { name: 'a sub containing "/" breaks exact iss/sub (istio#52217)', req: { path: '/slash' }, token: 'slash', status: 403 },
    { name: 'notRequestPrincipals "*" matches anonymous', req: { path: '/anon' }, status: 200 },
    { name: 'notRequestPrincipals "*" matches a token without sub', req: { path: '/anon' }, token: 'nosub', status: 200 },
    { name: 'notRequestPrincipals "*" does not match a full principal', req: { path: '/anon' }, token: 'alice', status: 403 },
  ],
);

table(
  'peer identity, namespaces, IP blocks',
  () =>
    ap(
      'rules:\n- from: [{source: {principals: ["cluster.local/ns/foo/sa/curl"]}}]\n  to: [{operation: {paths: ["/p-exact"]}}]\n- from: [{source: {principals: ["cluster.local/ns/foo/*"]}}]\n  to: [{operation: {paths: ["/p-prefix"]}}]\n- from: [{source: {principals: ["*/sa/curl"]}}]\n  to: [{operation: {paths: ["/p-suffix"]}}]\n- from: [{source: {namespaces: ["foo"]}}]\n  to: [{operation: {paths: ["/ns"]}}]\n- from: [{source: {notNamespaces: ["foo"]}}]\n  to: [{operation: {paths: ["/not-ns"]}}]\n- from: [{source: {serviceAccounts: ["foo/curl"]}}]\n  to: [{operation: {paths: ["/sa"]}}]\n- from: [{source: {ipBlocks: ["10.1.0.0/16", "2001:db8::/32"]}}]\n  to: [{operation: {paths: ["/ip"]}}]\n- from: [{source: {notIpBlocks: ["10.1.0.0/16"]}}]\n  to: [{operation: {paths: ["/not-ip"]}}]\n- from: [{source: {remoteIpBlocks: ["192.0.2.0/24"]}}]\n  to: [{operation: {paths: ["/remote"]}}]',
    ),
  [
    { name: 'principal exact', req: { path: '/p-exact', sourcePrincipal: 'spiffe://cluster.local/ns/foo/sa/curl' }, status: 200 },
    { name: 'principal exact, other sa', req: { path: '/p-exact', sourcePrincipal: 'spiffe://cluster.local/ns/foo/sa/web' }, status: 403 },
    { name: 'principal prefix', req: { path: '/p-prefix', sourcePrincipal: 'spiffe://cluster.local/ns/foo/sa/web' }, status: 200 },
    { name: 'principal suffix', req: { path: '/p-suffix', sourcePrincipal: 'spiffe://td/ns/bar/sa/curl' }, status: 200 },
    { name: 'no peer principal never matches principals', req: { path: '/p-suffix' }, status: 403 },
    { name: 'namespace of the peer', req: { path: '/ns', sourcePrincipal: 'spiffe://cluster.local/ns/foo/sa/x' }, status: 200 },
    { name: 'other namespace', req: { path: '/ns', sourcePrincipal: 'spiffe://cluster.local/ns/bar/sa/x' }, status: 403 },
    { name: 'notNamespaces matches another namespace', req: { path: '/not-ns', sourcePrincipal: 'spiffe://cluster.local/ns/bar/sa/x' }, status: 200 },
    { name: 'service account ns/sa', req: { path: '/sa', sourcePrincipal: 'spiffe://cluster.local/ns/foo/sa/curl' }, status: 200 },
    { name: 'service account in another namespace', req: { path: '/sa', sourcePrincipal: 'spiffe://cluster.local/ns/bar/sa/curl' }, status: 403 },
    { name: 'IPv4 in block', req: { path: '/ip', sourceAddress: '10.1.2.3' }, status: 200 },
    { name: 'IPv4 outside block', req: { path: '/ip', sourceAddress: '10.2.0.1' }, status: 403 },
    { name: 'IPv6 in block', req: { path: '/ip', sourceAddress: '2001:db8::1' }, status: 200 },
    { name: 'notIpBlocks matches outside', req: { path: '/not-ip', sourceAddress: '192.168.0.1' }, status: 200 },
    { name: 'notIpBlocks rejects inside', req: { path: '/not-ip', sourceAddress: '10.1.9.9' }, status: 403 },
    { name: 'remote IP block', req: { path: '/remote', sourceAddress: '192.0.2.7' }, status: 200 },
  ],
);

table(
  'operations: hosts, ports, methods, paths',
  () =>
    ap(
      'rules:\n- to: [{operation: {hosts: ["httpbin.example.com", "*.wild.test"], paths: ["/h"]}}]\n- to: [{operation: {ports: ["8080"], paths: ["/port"]}}]\n- to: [{operation: {methods: ["GET", "HEAD"], paths: ["/m"]}}]\n- to: [{operation: {notMethods: ["DELETE"], paths: ["/not-m"]}}]\n- to: [{operation: {paths: ["/exact", "/pre/*", "*.png", "/api/{*}/items", "/files/{**}"]}}]\n- to: [{operation: {paths: ["/both"], notPaths: ["/both"]}}]\n- to: [{operation: {hosts: ["*"], paths: ["/any-host"]}}]',
    ),
  [
    { name: 'host compares case-insensitively', req: { path: '/h', host: 'HTTPBIN.Example.COM' }, status: 200 },
    { name: 'host with a port does not match', req: { path: '/h', host: 'httpbin.example.com:8000' }, status: 403 },
    { name: 'host suffix wildcard', req: { path: '/h', host: 'a.wild.test' }, status: 200 },
    { name: 'Kelvin sign is not a k', req: { path: '/h', host: 'httpbin.example.\u212Aom' }, status: 403 },
    { name: 'destination port', req: { path: '/port', destinationPort: 8080 }, status: 200 },
    { name: 'other destination port', req: { path: '/port', destinationPort: 9090 }, status: 403 },
    { name: 'method listed', req: { path: '/m', method: 'HEAD' }, status: 200 },
    { name: 'method not listed', req: { path: '/m', method: 'POST' }, status: 403 },
    { name: 'notMethods allows another method', req: { path: '/not-m', method: 'PUT' }, status: 200 },
    { name: 'notMethods rejects the method', req: { path: '/not-m', method: 'DELETE' }, status: 403 },
    { name: 'exact path', req: { path: '/exact' }, status: 200 },
    { name: 'exact path is case-sensitive', req: { path: '/EXACT' }, status: 403 },
    { name: 'trailing slash is another path', req: { path: '/exact/' }, status: 403 },
    { name: 'prefix path', req: { path: '/pre/a/b' }, status: 200 },
    { name: 'prefix needs its slash', req: { path: '/pre' }, status: 403 },
    { name: 'suffix path', req: { path: '/img/a.png' }, status: 200 },
    { name: '{*} one segment', req: { path: '/api/v1/items' }, status: 200 },
    { name: '{*} not two segments', req: { path: '/api/v1/v2/items' }, status: 403 },
    { name: '{*} not empty', req: { path: '/api//items' }, status: 403 },
    { name: '{**} any rest', req: { path: '/files/a/b/c' }, status: 200 },
    { name: '{**} matches the bare slash', req: { path: '/files/' }, status: 200 },
    { name: '{**} does not match without the slash', req: { path: '/files' }, status: 403 },
    { name: 'paths and notPaths of one value never match', req: { path: '/both' }, status: 403 },
    { name: 'hosts * matches any host', req: { path: '/any-host', host: 'x.test' }, status: 200 },
    { name: 'normalised path: dot segments resolved', req: { path: '/pre/../exact' }, status: 200 },
    { name: 'normalised path: %2e%2e resolved', req: { path: '/x/%2e%2e/exact' }, status: 200 },
    { name: 'normalised path: unreserved escapes decoded', req: { path: '/%65xact' }, status: 200 },
    { name: 'normalised path: backslash becomes slash', req: { path: '/pre\\a' }, status: 200 },
  ],
);

table(
  'conditions (when)',
  () =>
    ap(
      'rules:\n- to: [{operation: {paths: ["/hdr"]}}]\n  when: [{key: "request.headers[X-Env]", values: ["prod", "stag*"]}]\n- to: [{operation: {paths: ["/hdr-any"]}}]\n  when: [{key: "request.headers[x-present]", values: ["*"]}]\n- to: [{operation: {paths: ["/not-hdr"]}}]\n  when: [{key: "request.headers[x-env]", notValues: ["prod"]}]\n- to: [{operation: {paths: ["/groups"]}}]\n  when: [{key: "request.auth.claims[groups]", values: ["ops"]}]\n- to: [{operation: {paths: ["/num"]}}]\n  when: [{key: "request.auth.claims[level]", values: ["3"]}]\n- to: [{operation: {paths: ["/not-num"]}}]\n  when: [{key: "request.auth.claims[level]", notValues: ["3"]}]\n- to: [{operation: {paths: ["/bool"]}}]\n  when: [{key: "request.auth.claims[admin]", values: ["*"]}]\n- to: [{operation: {paths: ["/nested"]}}]\n  when: [{key: "request.auth.claims[realm][roles]", values: ["r1"]}]\n- to: [{operation: {paths: ["/missing"]}}]\n  when: [{key: "request.auth.claims[nope]", notValues: ["x"]}]\n- to: [{operation: {paths: ["/scope"]}}]\n  when: [{key: "request.auth.claims[scope]", values: ["write"]}]\n- to: [{operation: {paths: ["/scp"]}}]\n  when: [{key: "request.auth.claims[scp]", values: ["write"]}]\n- to: [{operation: {paths: ["/aud"]}}]\n  when: [{key: "request.auth.audiences", values: ["web"]}]\n- to: [{operation: {paths: ["/azp"]}}]\n  when: [{key: "request.auth.presenter", values: ["cli"]}]\n- to: [{operation: {paths: ["/principal"]}}]\n  when: [{key: "request.auth.principal", values: ["' +
        ISS +
        '/alice"]}]\n- to: [{operation: {paths: ["/and"]}}]\n  when: [{key: "request.auth.claims[role]", values: ["admin"]}, {key: "request.headers[x-env]", values: ["prod"]}]\n- to: [{operation: {paths: ["/dport"]}}]\n  when: [{key: "destination.port", values: ["8080"]}]\n- to: [{operation: {paths: ["/sni"]}}]\n  when: [{key: "connection.sni", values: ["*.example.com"]}]\n- to: [{operation: {paths: ["/srcip"]}}]\n  when: [{key: "source.ip", values: ["10.0.0.0/8"]}]\n- to: [{operation: {paths: ["/srcns"]}}]\n  when: [{key: "source.namespace", values: ["foo"]}]',
    ),
  [
    { name: 'header exact value, name case-insensitive', req: { path: '/hdr', headers: { 'x-env': 'prod' } }, status: 200 },
    { name: 'header prefix value', req: { path: '/hdr', headers: { 'x-env': 'staging' } }, status: 200 },
    { name: 'header other value', req: { path: '/hdr', headers: { 'x-env': 'dev' } }, status: 403 },
    { name: 'header "*" means present', req: { path: '/hdr-any', headers: { 'x-present': '' } }, status: 200 },
    { name: 'header "*" absent', req: { path: '/hdr-any' }, status: 403 },
    { name: 'header notValues: absent header satisfies it', req: { path: '/not-hdr' }, status: 200 },
    { name: 'header notValues: listed value fails', req: { path: '/not-hdr', headers: { 'x-env': 'prod' } }, status: 403 },
    { name: 'list claim: any element', req: { path: '/groups' }, token: 'alice', status: 200 },
    { name: 'string claim equal to the value', req: { path: '/groups' }, token: 'bob', status: 403 },
    { name: 'numeric claim never matches values', req: { path: '/num' }, token: 'alice', status: 403 },
    { name: 'numeric claim always satisfies notValues', req: { path: '/not-num' }, token: 'alice', status: 200 },
    { name: 'boolean claim never matches "*"', req: { path: '/bool' }, token: 'alice', status: 403 },
    { name: 'nested claim path', req: { path: '/nested' }, token: 'alice', status: 200 },
    { name: 'missing claim satisfies notValues', req: { path: '/missing' }, token: 'alice', status: 200 },
    { name: 'scope is split on spaces', req: { path: '/scope' }, token: 'alice', status: 200 },
    { name: 'scp is not split', req: { path: '/scp' }, token: 'alice', status: 403 },
    { name: 'audiences any', req: { path: '/aud' }, token: 'alice', status: 200 },
    { name: 'presenter (azp)', req: { path: '/azp' }, token: 'alice', status: 200 },
    { name: 'request.auth.principal', req: { path: '/principal' }, token: 'alice', status: 200 },
    { name: 'request.auth.principal other user', req: { path: '/principal' }, token: 'bob', status: 403 },
    { name: 'claim conditions fail without a token', req: { path: '/groups' }, status: 403 },
    { name: 'conditions are AND-ed (both hold)', req: { path: '/and', headers: { 'x-env': 'prod' } }, token: 'alice', status: 200 },
    { name: 'conditions are AND-ed (one fails)', req: { path: '/and', headers: { 'x-env': 'dev' } }, token: 'alice', status: 403 },
    { name: 'destination.port', req: { path: '/dport', destinationPort: 8080 }, status: 200 },
    { name: 'connection.sni suffix', req: { path: '/sni', sni: 'a.example.com' }, status: 200 },
    { name: 'source.ip CIDR', req: { path: '/srcip', sourceAddress: '10.9.9.9' }, status: 200 },
    { name: 'source.namespace', req: { path: '/srcns', sourcePrincipal: 'spiffe://cluster.local/ns/foo/sa/a' }, status: 200 },
  ],
);

table(
  'rule algebra: from/to lists OR, fields AND',
  () => ap(`rules:\n- from: [{source: {requestPrincipals: ["${ISS}/alice"]}}, {source: {ipBlocks: ["10.5.0.0/16"]}}]\n  to: [{operation: {methods: ["GET"], paths: ["/r"]}}, {operation: {methods: ["POST"], paths: ["/w"]}}]`),
  [
    { name: 'first source, first operation', req: { path: '/r' }, token: 'alice', status: 200 },
    { name: 'second source, second operation', req: { path: '/w', method: 'POST', sourceAddress: '10.5.1.1' }, status: 200 },
    { name: 'operation fields are AND-ed', req: { path: '/r', method: 'POST' }, token: 'alice', status: 403 },
    { name: 'no source matches', req: { path: '/r' }, token: 'bob', status: 403 },
  ],
);

table('malformed requests are 400 before any policy', () => ap('rules: [{}]'), [
  { name: '%00 in the path', req: { path: '/a%00b' }, status: 400 },
  { name: 'lower-case method', req: { method: 'get', path: '/' }, status: 400 },
  { name: 'path without a leading slash', req: { path: 'api' }, status: 400 },
  { name: 'absolute-form target', req: { path: 'http://evil/api' }, status: 400 },
  { name: 'raw space in the path', req: { path: '/a b' }, status: 400 },
  { name: 'non-ASCII in the path', req: { path: '/é' }, status: 400 },
  { name: 'headers over the byte budget', req: { path: '/', headers: { 'x-big': 'a'.repeat(99_000) } }, status: 400 },
  { name: 'more headers than allowed', req: { path: '/', headers: Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`x-h${i}`, 'v'])) }, status: 400 },
  { name: 'a large but allowed header', req: { path: '/', headers: { 'x-big': 'a'.repeat(60_000) } }, status: 200 },
]);
