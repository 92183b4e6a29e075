/**
 * What Airlock AccessControlPolicy users get (semantics.md §5.3), checked on the compiled model: first matching
 * policy decides, request conditions, deny, public, and claim requirements on a verified identity.
 * Token verification is out of scope here (identities are given); the integration tests mint real tokens.
 */
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../../../../src/model/identity.js';
import type { SnapshotFragment } from '../../../../../src/model/policy.js';
import { FILES, type Outcome, type RequestSpec, acp, compileOk, decide, identity, preamble, request } from './harness.js';

interface Case {
  readonly name: string;
  readonly path: string;
  readonly req?: RequestSpec;
  readonly who: Identity | undefined;
  readonly expected: Outcome;
}

function run(fragment: SnapshotFragment, cases: readonly Case[]): void {
  it.each(cases)('$name', ({ path, req, who, expected }) => {
    expect(decide(fragment, request(path, req), who)).toBe(expected);
  });
}

const alice = identity({});
const jwtAuth = 'authentication: { jwt: { jwtRef: { name: jwt } } }';

// The seed's layout: deny a network, public /public, JWT with claims on /api, JWT on everything else.
const layered = compileOk(
  preamble() +
    acp(`- requestConditions: { remoteIP: { cidrRanges: [192.168.0.0/16] } }
  authorization: { deny: {} }
- requestConditions: { path: { matcher: { exact: /public } } }
  authorization: {}
- requestConditions: { path: { matcher: { prefix: /api/ } } }
  authorization:
    ${jwtAuth}
    requireAll:
      - jwt: { claim: { name: roles, value: { matcher: { exact: admin } } } }
- authorization:
    ${jwtAuth}`),
  FILES,
);

describe('first matching policy decides', () => {
  run(layered, [
    { name: 'a denied network is denied even with a token', path: '/public', req: { ip: '192.168.1.5' }, who: alice, expected: 'deny' },
    { name: 'the public path needs no token', path: '/public', who: undefined, expected: 'allow' },
    { name: 'public is exact: /public/x falls through to the catch-all JWT policy', path: '/public/x', who: undefined, expected: 'no-token' },
    { name: 'the query string is not part of the path', path: '/public?x=1', who: undefined, expected: 'allow' },
    { name: '/api/ without a token asks for one', path: '/api/orders', who: undefined, expected: 'no-token' },
    { name: '/api/ with a token lacking the role is refused on claims', path: '/api/orders', who: alice, expected: 'claims-denied' },
    { name: '/api/ with the role is allowed', path: '/api/orders', who: identity({ roles: ['user', 'admin'] }), expected: 'allow' },
    { name: 'the catch-all policy needs only a verified token', path: '/other', who: alice, expected: 'allow' },
    { name: 'the catch-all policy without a token asks for one', path: '/other', who: undefined, expected: 'no-token' },
    { name: 'an IPv6 client is outside an IPv4 deny range', path: '/public', req: { ip: '2001:db8::1' }, who: undefined, expected: 'allow' },
  ]);
});

const conditions = compileOk(
  preamble() +
    acp(`- requestConditions: { method: [DELETE, PATCH] }
  authorization: { deny: {} }
- requestConditions: { header: { name: { matcher: { exact: X-Debug } } } }
  authorization: { deny: {} }
- requestConditions: { header: { name: { matcher: { exact: X-Tenant } }, value: { matcher: { prefix: acme-, ignoreCase: true } } } }
  authorization: {}
- requestConditions: { invert: true, path: { matcher: { prefix: /app } } }
  authorization: {}
- requestConditions: { remoteIP: { cidrRanges: [10.0.0.0/8], invert: true } }
  authorization: { deny: {} }
- requestConditions: { mediaType: { matcher: { exact: application/json } }, method: [POST] }
  authorization: {}
- requestConditions: { path: { matcher: { regex: '/app/v[0-9]+/.*', ignoreCase: true } } }
  authorization: {}
- authorization:
    ${jwtAuth}`),
  FILES,
);

describe('request conditions', () => {
  run(conditions, [
    { name: 'a listed method matches', path: '/app', req: { method: 'DELETE' }, who: alice, expected: 'deny' },
    { name: 'methods are compared as sent (no case folding)', path: '/app', req: { method: 'PUT' }, who: undefined, expected: 'no-token' },
    { name: 'a header condition without value matches presence', path: '/app', req: { headers: { 'x-debug': '' } }, who: alice, expected: 'deny' },
    { name: 'header names are case-insensitive', path: '/app', req: { headers: { 'X-DEBUG': '1' } }, who: alice, expected: 'deny' },
    { name: 'a header value prefix with ignoreCase matches', path: '/app', req: { headers: { 'x-tenant': 'ACME-eu' } }, who: undefined, expected: 'allow' },
    { name: 'a header value that does not fit falls through', path: '/app', req: { headers: { 'x-tenant': 'other' } }, who: undefined, expected: 'no-token' },
    { name: 'invert negates the whole condition: outside /app is public', path: '/elsewhere', who: undefined, expected: 'allow' },
    { name: 'invert: /app itself is not selected by the inverted policy', path: '/app', who: undefined, expected: 'no-token' },
    { name: 'remoteIP invert selects clients outside the range', path: '/app', req: { ip: '172.16.0.1' }, who: alice, expected: 'deny' },
    { name: 'remoteIP invert leaves clients inside the range alone', path: '/app', req: { ip: '10.1.2.3' }, who: alice, expected: 'allow' },
    { name: 'media type ignores parameters and case', path: '/app', req: { method: 'POST', headers: { 'content-type': 'Application/JSON; charset=utf-8' } }, who: undefined, expected: 'allow' },
    { name: 'media type must be the whole type, not a prefix of it', path: '/app', req: { method: 'POST', headers: { 'content-type': 'application/jsonx' } }, who: undefined, expected: 'no-token' },
    { name: 'conditions are ANDed: media type alone is not enough', path: '/app', req: { headers: { 'content-type': 'application/json' } }, who: undefined, expected: 'no-token' },
    { name: 'a regex path condition with ignoreCase matches', path: '/APP/V2/items', who: undefined, expected: 'allow' },
    { name: 'a regex must match the whole path, not a part of it', path: '/app/beta/app/v2/x', who: undefined, expected: 'no-token' },
  ]);
});

function claims(kind: 'requireAll' | 'requireAny', conds: string): SnapshotFragment {
  return compileOk(
    preamble() +
      acp(`- authorization:
    ${jwtAuth}
    ${kind}:
${conds.replace(/^/gm, '      ')}`),
    FILES,
  );
}

const matchers = claims(
  'requireAll',
  `- jwt: { claim: { name: email, value: { matcher: { suffix: '@company.com' } } } }
- jwt: { claim: { name: dept, value: { matcher: { exact: sales, ignoreCase: true } } } }
- jwt: { claim: { name: realm_access.roles, value: { matcher: { contains: admin } } } }`,
);
const good = { email: 'bob@company.com', dept: 'SALES', realm_access: { roles: ['x', 'superadmin'] } };

describe('claim matchers (requireAll)', () => {
  run(matchers, [
    { name: 'every condition holds', path: '/', who: identity(good), expected: 'allow' },
    { name: 'suffix does not match another domain', path: '/', who: identity({ ...good, email: 'bob@company.com.evil' }), expected: 'claims-denied' },
    { name: 'ignoreCase folds ASCII', path: '/', who: identity({ ...good, dept: 'Sales' }), expected: 'allow' },
    { name: 'without ignoreCase the case matters (suffix)', path: '/', who: identity({ ...good, email: 'bob@COMPANY.com' }), expected: 'claims-denied' },
    { name: 'nested claims by dot path, arrays element by element', path: '/', who: identity({ ...good, realm_access: { roles: ['admins'] } }), expected: 'allow' },
    { name: 'a missing nested claim fails', path: '/', who: identity({ ...good, realm_access: {} }), expected: 'claims-denied' },
    { name: 'one failing condition fails requireAll', path: '/', who: identity({ ...good, dept: 'hr' }), expected: 'claims-denied' },
    { name: 'no token at all asks for one before any claim check', path: '/', who: undefined, expected: 'no-token' },
  ]);
});

const anyOf = claims(
  'requireAny',
  `- jwt: { claim: { name: level, value: { matcher: { exact: '3' } } } }
- jwt: { claim: { name: beta, value: { matcher: { exact: 'true' } } } }
- jwt: { claim: { name: group, value: { matcher: { regex: 'ops-[a-z]+' } } } }
- jwt: { claim: { name: vip } }`,
);

describe('claim matchers (requireAny), coercion and presence', () => {
  run(anyOf, [
    { name: 'a number is matched on its string form', path: '/', who: identity({ level: 3 }), expected: 'allow' },
    { name: 'a number string works the same', path: '/', who: identity({ level: '3' }), expected: 'allow' },
    { name: 'a different number does not match', path: '/', who: identity({ level: 30 }), expected: 'claims-denied' },
    { name: 'a boolean is matched as true/false', path: '/', who: identity({ beta: true }), expected: 'allow' },
    { name: 'false is not true', path: '/', who: identity({ beta: false }), expected: 'claims-denied' },
    { name: 'arrays of numbers match element-wise', path: '/', who: identity({ level: [1, 3] }), expected: 'allow' },
    { name: 'a regex is a full match', path: '/', who: identity({ group: 'ops-eu' }), expected: 'allow' },
    { name: 'a regex does not match a longer value', path: '/', who: identity({ group: 'ops-eu-1' }), expected: 'claims-denied' },
    { name: 'an object never matches a value matcher', path: '/', who: identity({ level: { v: 3 } }), expected: 'claims-denied' },
    { name: 'null never matches a value matcher', path: '/', who: identity({ beta: null }), expected: 'claims-denied' },
    { name: 'presence: a claim without value matcher only has to exist', path: '/', who: identity({ vip: { tier: 'gold' } }), expected: 'allow' },
    { name: 'presence: an empty string counts as present', path: '/', who: identity({ vip: '' }), expected: 'allow' },
    { name: 'none of the alternatives holds', path: '/', who: alice, expected: 'claims-denied' },
  ]);
});

describe('policies without conditions and unmatched requests', () => {
  const lastWithConditions = compileOk(
    preamble() + acp(`- requestConditions: { path: { matcher: { prefix: /open } } }\n  authorization: {}`),
    FILES,
  );
  run(lastWithConditions, [
    { name: 'a request the only policy selects is allowed', path: '/open', who: undefined, expected: 'allow' },
    { name: 'a request no policy selects is denied (403, documented)', path: '/closed', who: alice, expected: 'unmatched' },
  ]);
  const denyAll = compileOk(preamble() + acp('- authorization: { deny: {} }'), FILES);
  run(denyAll, [{ name: 'a lone deny policy denies everything on the route', path: '/', who: alice, expected: 'deny' }]);
});
