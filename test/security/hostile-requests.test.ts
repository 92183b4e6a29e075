/**
 * Hostile request shapes against F1 + F4 (security.md §1.5–§1.7): path tricks against the `notPaths` exemption,
 * malformed HTTP (400), Unicode host/method folding, and what the service emits (stripped client headers, claim
 * values that could split a header). Through real gRPC, status and deny reason on every row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.js';
import { type CheckRequestInput, type CheckResponseObject, headerOf, headersToRemove } from '../helpers/upstream-client.js';
import { type Expected, HostileTally, expectDecision } from './expect-decision.js';
import { f1Keys, f1Policies, signRaw, validClaims, type F1Keys } from './f1.js';

let keys: F1Keys;
let svc: TestService;
/** F1 + F4: the host/method rows. */
let svc4: TestService;
const tally = new HostileTally();

beforeAll(async () => {
  keys = await f1Keys();
  [svc, svc4] = await Promise.all([startTestService(f1Policies(keys)), startTestService(f1Policies(keys, { withF4: true }))]);
});
afterAll(async () => {
  console.log(tally.summary('hostile-requests'));
  await Promise.all([svc.close(), svc4.close()]);
});

const token = (extra: Record<string, unknown> = {}): string => signRaw(keys.k1, { alg: 'RS256', kid: 'k1' }, validClaims(extra));

interface Row extends Expected {
  readonly name: string;
  readonly input: () => CheckRequestInput;
  readonly then?: (resp: CheckResponseObject) => void;
  /** Run against the F1 + F4 service. */
  readonly f4?: boolean;
}

async function run(row: Row): Promise<void> {
  const resp = await (row.f4 === true ? svc4 : svc).check(row.input());
  tally.record(row, resp);
  expectDecision(resp, row);
  row.then?.(resp);
}

// security.md §1.5 rows: no token, so only the exemption can allow.
const pathRows: [string, 200 | 400 | 403, string?][] = [
  ['/productpage', 200],
  ['/productpage?x=/../api', 200],
  ['/productpage#/../api', 200],
  ['/productpage/../api/v1/products/0', 403],
  ['/productpage/%2e%2e/api', 403],
  ['/productpage/%2E%2E/api', 403],
  ['//productpage', 403],
  ['/%70roductpage', 200],
  ['/ProductPage', 403],
  ['/productpage/', 403],
  ['/productpage;jsessionid=1', 403],
  ['/productpage%2F..%2Fapi', 403],
  ['/productpage%2f..%2fapi', 403],
  ['/productpage\\..\\api', 403],
  ['/productpage/.', 403],
  ['/public/x', 200],
  ['/public/', 200],
  ['/public', 403],
  ['/public/../api', 403],
  ['/public/%2e%2e/api', 403],
  ['/public/.%2E/api', 403],
  ['/public//../api', 200],
  ['/public/..;/api', 403],
  ['/public/..;x=1/api', 403],
  ['/public/.;/../api', 403],
  ['/public/%252e%252e/api', 200],
  ['/public/%2e%2e%2fapi', 200],
  ['/public/x%00', 400, 'malformed_request'],
  ['/public/a b', 400, 'malformed_request'],
  ['/public/a\tb', 400, 'malformed_request'],
  ['/public/a\rb', 400, 'malformed_request'],
  ['/public/a\u007fb', 400, 'malformed_request'],
  ['/public/caf\u00e9', 400, 'malformed_request'],
  ['public/x', 400, 'malformed_request'],
  ['http://evil/public/x', 400, 'malformed_request'],
  ['/public/x?a=%00', 400, 'malformed_request'],
];

describe('§1.5 path tricks against the notPaths exemption (no token)', () => {
  it.each<Row>(
    pathRows.map(([path, status, reason]) => ({
      name: `${JSON.stringify(path)} → ${status}`,
      input: () => ({ path }),
      status,
      reason: reason ?? (status === 403 ? 'denied_by_rule' : undefined),
    })) as Row[],
  )('$name', run);

  it.each<Row>([
    { name: 'CONNECT with an empty path is decided (DENY applies), no crash', input: () => ({ method: 'CONNECT', path: '' }), status: 403, reason: 'denied_by_rule' },
    { name: 'OPTIONS * (no CORS headers) is not exempt', input: () => ({ method: 'OPTIONS', path: '*' }), status: 403, reason: 'denied_by_rule' },
    { name: 'GET * is malformed', input: () => ({ path: '*' }), status: 400, reason: 'malformed_request' },
    { name: 'lower-case method get', input: () => ({ method: 'get', path: '/productpage' }), status: 400, reason: 'malformed_request' },
    { name: 'mixed-case method Get', input: () => ({ method: 'Get', path: '/productpage' }), status: 400, reason: 'malformed_request' },
    { name: 'method "GET " with a space', input: () => ({ method: 'GET ', path: '/productpage' }), status: 400, reason: 'malformed_request' },
    { name: 'method G\\tET', input: () => ({ method: 'G\tET', path: '/productpage' }), status: 400, reason: 'malformed_request' },
  ])('$name', run);

  it('64 KiB of "/.." normalises to "/" and is answered 403 quickly', async () => {
    const started = performance.now();
    await run({ name: 'dots', input: () => ({ path: '/..'.repeat(21_000) }), status: 403, reason: 'denied_by_rule' });
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('§1.6 host and method (F4: ALLOW hosts httpbin/key.example.com, GET/POST, /headers; valid token)', () => {
  const f4 = (host: string, extra: Partial<CheckRequestInput> = {}): CheckRequestInput => ({
    host,
    path: '/headers',
    headers: { authorization: `Bearer ${token()}` },
    ...extra,
  });
  it.each<Row>(([
    { name: 'httpbin.example.com', input: () => f4('httpbin.example.com'), status: 200 },
    { name: 'HTTPBIN.Example.COM compares case-insensitively', input: () => f4('HTTPBIN.Example.COM'), status: 200 },
    { name: 'key.example.com', input: () => f4('key.example.com'), status: 200 },
    { name: 'Kelvin sign \\u212Aey.example.com never folds to key', input: () => f4('\u212Aey.example.com'), status: 403, reason: 'no_allow_rule_matched' },
    { name: 'dotless i in httpb\\u0131n.example.com never folds', input: () => f4('httpb\u0131n.example.com'), status: 403, reason: 'no_allow_rule_matched' },
    { name: 'port is part of the authority', input: () => f4('httpbin.example.com:8000'), status: 403, reason: 'no_allow_rule_matched' },
    { name: 'trailing dot is kept', input: () => f4('httpbin.example.com.'), status: 403, reason: 'no_allow_rule_matched' },
    { name: 'POST is listed', input: () => f4('httpbin.example.com', { method: 'POST' }), status: 200 },
    { name: 'PATCH is not listed', input: () => f4('httpbin.example.com', { method: 'PATCH' }), status: 403, reason: 'no_allow_rule_matched' },
    { name: 'PO\\u017FT (long s) is not an HTTP token, never folded to POST', input: () => f4('httpbin.example.com', { method: 'PO\u017FT' }), status: 400, reason: 'malformed_request' },
    { name: 'path /HEADERS is case-sensitive', input: () => f4('httpbin.example.com', { path: '/HEADERS' }), status: 403, reason: 'no_allow_rule_matched' },
  ] as Row[]).map((r) => ({ ...r, f4: true })))('$name', run);
});

describe('§1.7 what the service emits', () => {
  let lastToken = '';
  it.each<Row>([
    {
      name: 'a client-sent x-sub without a token is stripped',
      input: () => ({ path: '/productpage', headers: { 'x-sub': 'admin', 'x-jwt-payload': 'e30' } }),
      status: 200,
      then: (r) => expect(headersToRemove(r)).toEqual(expect.arrayContaining(['x-sub', 'x-jwt-payload'])),
    },
    {
      name: 'a client-sent x-sub is overwritten by the verified claim',
      input: () => ({ path: '/api', headers: { 'x-sub': 'admin', authorization: `Bearer ${token()}` } }),
      status: 200,
      then: (r) => {
        expect(headerOf(r, 'x-sub')).toBe('alice');
        expect(headersToRemove(r)).not.toContain('x-sub');
      },
    },
    {
      name: 'a claim value with CR/LF is omitted, the decision is unchanged',
      input: () => ({ path: '/api', headers: { authorization: `Bearer ${token({ note: 'a\r\nx-injected: 1' })}`, 'x-note': 'client' } }),
      status: 200,
      then: (r) => {
        expect(headerOf(r, 'x-note')).toBeUndefined();
        expect(headersToRemove(r)).toContain('x-note');
        expect(headerOf(r, 'x-injected')).toBeUndefined();
      },
    },
    { name: 'a claim value with NUL is omitted', input: () => ({ path: '/api', headers: { authorization: `Bearer ${token({ note: 'a\u0000b' })}` } }), status: 200, then: (r) => expect(headerOf(r, 'x-note')).toBeUndefined() },
    { name: 'a lone surrogate claim value is omitted', input: () => ({ path: '/api', headers: { authorization: `Bearer ${token({ note: 'a\ud800' })}` } }), status: 200, then: (r) => expect(headerOf(r, 'x-note')).toBeUndefined() },
    { name: 'an ordinary claim value is emitted', input: () => ({ path: '/api', headers: { authorization: `Bearer ${token({ note: 'hello world' })}` } }), status: 200, then: (r) => expect(headerOf(r, 'x-note')).toBe('hello world') },
    {
      name: 'the payload header is the token payload segment verbatim',
      input: () => {
        lastToken = token({ note: 'p' });
        return { path: '/api', headers: { authorization: `Bearer ${lastToken}` } };
      },
      status: 200,
      then: (r) => expect(headerOf(r, 'x-jwt-payload')).toBe(lastToken.split('.')[1]),
    },
    {
      name: 'a host with a quote is escaped in the 401 realm',
      input: () => ({ host: 'a"b\\c', path: '/productpage', headers: { authorization: 'Bearer x' } }),
      status: 401,
      reason: 'token_malformed',
      then: (r) => expect(headerOf(r, 'www-authenticate')).toBe('Bearer realm="http://a\\"b\\\\c/productpage", error="invalid_token"'),
    },
  ])('$name', run);
});
