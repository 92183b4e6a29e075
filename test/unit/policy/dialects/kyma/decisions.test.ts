/**
 * What Kyma users get (semantics §4.3 "Resulting semantics", Kyma docs "Ordering Rules in APIRule v2"),
 * checked on the compiled model with the engine's own authorization layer. Tokens are out of scope here:
 * identities are given directly (the integration tests mint real tokens).
 */
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../../../../src/model/identity.js';
import { HOST, ISSUER, apiRule, compileOk, decide, identity, jwt, request } from './harness.js';

const anon = undefined;
const alice = identity({});
const noSub = identity({ sub: undefined });
const stranger = identity({ iss: 'https://other.example.com' });

const minimal = compileOk(apiRule(`- path: /headers\n  methods: [GET]\n  ${jwt().replace(/\n/g, '\n  ')}`));
const minimal404 = compileOk(apiRule(`- path: /headers\n  methods: [GET]\n  ${jwt().replace(/\n/g, '\n  ')}`), { kymaUnmatchedStatus: 404 });

interface Case {
  readonly name: string;
  readonly method?: string;
  readonly path: string;
  readonly host?: string;
  readonly who: Identity | undefined;
  readonly expected: 'allow' | 403 | 404;
}

function run(fragment: ReturnType<typeof compileOk>, cases: readonly Case[]): void {
  it.each(cases)('$name', ({ method, path, host, who, expected }) => {
    expect(decide(fragment, request(method ?? 'GET', path, host), who)).toBe(expected);
  });
}

describe('a jwt rule (seed 000 minimal configuration)', () => {
  run(minimal, [
    { name: 'a valid token from the issuer is allowed', path: '/headers', who: alice, expected: 'allow' },
    { name: 'no token on a jwt rule is 403, as Kyma answers RBAC: access denied', path: '/headers', who: anon, expected: 403 },
    { name: 'a token without sub has no request principal, so 403', path: '/headers', who: noSub, expected: 403 },
    { name: 'a token from an issuer configured elsewhere is 403', path: '/headers', who: stranger, expected: 403 },
    { name: 'the query string does not take part in path matching', path: '/headers?x=1', who: alice, expected: 'allow' },
    { name: 'a method no rule lists is denied (403 by default)', method: 'POST', path: '/headers', who: alice, expected: 403 },
    { name: 'a path no rule lists is denied (403 by default)', path: '/other', who: alice, expected: 403 },
    { name: 'the host is matched case-insensitively', path: '/headers', host: 'API.Example.COM', who: anon, expected: 403 },
    { name: 'a port on the authority does not escape the host scope', path: '/headers', host: `${HOST}:8443`, who: anon, expected: 403 },
    { name: 'another host is not governed by this APIRule', path: '/other', host: 'other.example.com', who: anon, expected: 'allow' },
    { name: 'a longer host is not the APIRule host', path: '/other', host: `x.${HOST}`, who: anon, expected: 'allow' },
  ]);
});

describe('kymaUnmatchedStatus: 404 (Kyma answers 404 for what no rule routes)', () => {
  run(minimal404, [
    { name: 'an unrouted method is 404', method: 'POST', path: '/headers', who: alice, expected: 404 },
    { name: 'an unrouted path is 404', path: '/nothing', who: anon, expected: 404 },
    { name: 'a routed jwt rule without token stays 403', path: '/headers', who: anon, expected: 403 },
    { name: 'a routed jwt rule with a token is allowed', path: '/headers', who: alice, expected: 'allow' },
  ]);
});

const scopes = compileOk(apiRule(`- path: /orders\n  methods: [GET]\n  ${jwt('[{ requiredScopes: [read, write] }]').replace(/\n/g, '\n  ')}`));
describe('requiredScopes: all of them, in one of scp / scope / scopes', () => {
  run(scopes, [
    { name: 'scp as a list holding both', path: '/orders', who: identity({ scp: ['read', 'write'] }), expected: 'allow' },
    { name: 'scope as a space-delimited string holding both', path: '/orders', who: identity({ scope: 'write read extra' }), expected: 'allow' },
    { name: 'scopes as a list holding both', path: '/orders', who: identity({ scopes: ['write', 'read'] }), expected: 'allow' },
    { name: 'scope as a list holding both', path: '/orders', who: identity({ scope: ['read', 'write'] }), expected: 'allow' },
    { name: 'scp as a space-delimited string is not split (Istio), so 403', path: '/orders', who: identity({ scp: 'read write' }), expected: 403 },
    { name: 'scopes split across two claims is 403', path: '/orders', who: identity({ scp: ['read'], scope: 'write' }), expected: 403 },
    { name: 'one scope missing is 403', path: '/orders', who: identity({ scp: ['read'] }), expected: 403 },
    { name: 'no scope claim is 403', path: '/orders', who: alice, expected: 403 },
    { name: 'a scope that is a prefix of the required one does not count', path: '/orders', who: identity({ scope: 'reader writer' }), expected: 403 },
  ]);
});

const audiences = compileOk(apiRule(`- path: /orders\n  methods: [GET]\n  ${jwt('[{ audiences: [app1, app2] }]').replace(/\n/g, '\n  ')}`));
describe('audiences: all of them in aud', () => {
  run(audiences, [
    { name: 'aud holding both (and more)', path: '/orders', who: identity({ aud: ['app2', 'x', 'app1'] }), expected: 'allow' },
    { name: 'aud holding only one is 403', path: '/orders', who: identity({ aud: 'app1' }), expected: 403 },
    { name: 'no aud is 403', path: '/orders', who: alice, expected: 403 },
  ]);
});

const either = compileOk(
  apiRule(`- path: /orders\n  methods: [GET]\n  ${jwt('[{ requiredScopes: [admin] }, { requiredScopes: [read], audiences: [app1] }]').replace(/\n/g, '\n  ')}`),
);
describe('several authorizations[] entries are OR-ed; scopes and audiences inside one entry AND-ed', () => {
  run(either, [
    { name: 'the first entry alone', path: '/orders', who: identity({ scp: ['admin'] }), expected: 'allow' },
    { name: 'the second entry alone', path: '/orders', who: identity({ scope: 'read', aud: 'app1' }), expected: 'allow' },
    { name: 'half of the second entry is 403', path: '/orders', who: identity({ scope: 'read' }), expected: 403 },
    { name: 'neither entry is 403', path: '/orders', who: identity({ aud: 'app1' }), expected: 403 },
  ]);
});

// Kyma docs, "Check for excluding rules that share common methods".
const excluding = compileOk(
  apiRule(`- path: /anything/one\n  methods: [POST]\n  ${jwt().replace(/\n/g, '\n  ')}\n- path: /anything/{**}\n  methods: [GET, POST]\n  noAuth: true`),
);
describe('first match wins: earlier paths sharing a method are excluded from later rules', () => {
  run(excluding, [
    { name: 'POST /anything/one needs the token', method: 'POST', path: '/anything/one', who: anon, expected: 403 },
    { name: 'POST /anything/one with a token', method: 'POST', path: '/anything/one', who: alice, expected: 'allow' },
    { name: 'GET /anything/one is excluded from the noAuth rule too', path: '/anything/one', who: anon, expected: 403 },
    { name: 'GET /anything/more is open', path: '/anything/more', who: anon, expected: 'allow' },
    { name: 'POST /anything/more is open', method: 'POST', path: '/anything/more', who: anon, expected: 'allow' },
    { name: '/anything/ matches {**} (zero segments)', path: '/anything/', who: anon, expected: 'allow' },
    { name: '/anything itself matches no rule', path: '/anything', who: anon, expected: 403 },
  ]);
});

// Kyma docs, "Order the rules": the specific {*} rule first, the catch-all after it.
const ordered = compileOk(
  apiRule(`- path: /anything/{*}/one\n  methods: [POST]\n  ${jwt().replace(/\n/g, '\n  ')}\n- path: /anything/{**}\n  methods: [POST, GET]\n  noAuth: true`),
);
describe('a {*} rule before a {**} catch-all', () => {
  run(ordered, [
    { name: 'GET /anything/more is open', path: '/anything/more', who: anon, expected: 'allow' },
    { name: 'POST /anything/more/one with a token', method: 'POST', path: '/anything/more/one', who: alice, expected: 'allow' },
    { name: 'POST /anything/more/one without a token is 403', method: 'POST', path: '/anything/more/one', who: anon, expected: 403 },
    { name: 'GET /anything/more/one matches no rule (403)', path: '/anything/more/one', who: alice, expected: 403 },
    { name: 'POST /anything/a/b/one is not {*}, so the open catch-all', method: 'POST', path: '/anything/a/b/one', who: anon, expected: 'allow' },
  ]);
});

const root = compileOk(apiRule(`- path: /\n  methods: [GET]\n  ${jwt().replace(/\n/g, '\n  ')}\n- path: /*\n  methods: [GET]\n  noAuth: true`));
describe('an exact / before the /* catch-all (kept in notPaths: narrower than leaving it out)', () => {
  run(root, [
    { name: 'GET / needs the token', path: '/', who: anon, expected: 403 },
    { name: 'GET / with a token', path: '/', who: alice, expected: 'allow' },
    { name: 'GET /x is open through /*', path: '/x', who: anon, expected: 'allow' },
    { name: 'GET /a/b/c is open through /*', path: '/a/b/c', who: anon, expected: 'allow' },
  ]);
});

const templates = compileOk(
  apiRule(
    ['/api/{*}/items', '/files/{**}', '/anything/{**}/two', '/exact/'].map((p) => `- path: ${p}\n  methods: [GET]\n  noAuth: true`).join('\n'),
  ),
);
describe('path operators (semantics §4.4, Envoy URI templates)', () => {
  run(templates, [
    { name: '{*} takes one segment', path: '/api/x/items', who: anon, expected: 'allow' },
    { name: '{*} does not take two segments', path: '/api/x/y/items', who: anon, expected: 403 },
    { name: '{*} does not take an empty segment', path: '/api//items', who: anon, expected: 403 },
    { name: 'a trailing {**} takes zero segments after the slash', path: '/files/', who: anon, expected: 'allow' },
    { name: 'a trailing {**} takes several segments', path: '/files/a/b/c.txt', who: anon, expected: 'allow' },
    { name: 'a trailing {**} needs the slash before it', path: '/files', who: anon, expected: 403 },
    { name: 'a middle {**} takes several segments', path: '/anything/any/random/two', who: anon, expected: 'allow' },
    { name: 'a middle {**} takes at least one segment', path: '/anything/two', who: anon, expected: 403 },
    { name: 'an exact path with a trailing slash is exact', path: '/exact', who: anon, expected: 403 },
    { name: 'paths are case-sensitive', path: '/FILES/a', who: anon, expected: 403 },
    { name: 'dot segments are resolved before matching', path: '/api/x/../y/items', who: anon, expected: 'allow' },
  ]);
});

it('the issuer in requestPrincipals is the configured one, exactly', () => {
  const trailing = identity({ iss: `${ISSUER}/` });
  expect(decide(minimal, request('GET', '/headers'), trailing)).toBe(403);
});
