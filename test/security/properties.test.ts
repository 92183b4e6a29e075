/**
 * Property-based tests (security.md §3.10 A and B): random CheckRequests over real gRPC, token mutations that must
 * never escalate, the policy evaluator against a reference written from the Istio spec, and path-normalisation
 * invariants. Every property prints its seed; replay with `SEED=<n>` (and `PROPERTY_RUNS=<n>` for longer runs).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAuthorization } from '../../src/check/evaluate-policy.js';
import { normalizePath } from '../../src/check/normalize-path.js';
import { prepareRequest } from '../../src/check/prepare-request.js';
import { istioDialect } from '../../src/policy/dialects/istio/index.js';
import { DEFAULT_COMPILE_OPTIONS } from '../../src/policy/dialects/types.js';
import type { RawDocument } from '../../src/policy/read-documents.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { type CheckRequestInput, type CheckResponseObject, checkRequest, headerOf, headerOptionsOf, httpStatusOf } from '../helpers/upstream-client.js';
import { ROOT_NS, identityArb, policiesArb, propertyParams, requestArb, toAttributes, toDocumentBody, toIdentity } from './arbitraries.js';
import { b64u, f1Keys, f1Policies, signRaw, validClaims, nowSec, type F1Keys } from './f1.js';
import { referenceAllows } from './reference-evaluator.js';

let keys: F1Keys;
let svc: TestService;
let valid: string;
let expired: string;

// A second service where an ALLOW policy without rules applies to everything: nothing may ever be allowed there.
const LOCKDOWN = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: lockdown, namespace: istio-system}
spec: {}
`;
let lockdown: TestService;

beforeAll(async () => {
  keys = await f1Keys();
  valid = signRaw(keys.k1, { alg: 'RS256', kid: 'k1' }, validClaims());
  expired = signRaw(keys.k1, { alg: 'RS256', kid: 'k1' }, validClaims({ exp: nowSec() - 3600 }));
  [svc, lockdown] = await Promise.all([
    startTestService(f1Policies(keys), { 'log-level': 'warn' }),
    startTestService({ ...f1Policies(keys), 'lockdown.yaml': LOCKDOWN }, { 'log-level': 'warn' }),
  ]);
});
afterAll(async () => Promise.all([svc.close(), lockdown.close()]));

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'binary-ascii', maxLength: 24 }),
  fc.string({ unit: fc.oneof(fc.constantFrom('a', '/', '%', '\r', '\n', '\u0000'), loneSurrogate), maxLength: 12 }),
);
const pathLike = fc
  .array(fc.constantFrom('/', 'a', '..', '.', '%2e', '%2F', '%c0%ae', ';', '\\', '?', '#', '=', '&', 'access_token=', 'productpage', 'public', '%00', '%', '%7'), { maxLength: 12 })
  .map((parts) => parts.join(''));

function randomRequest(): fc.Arbitrary<Record<string, unknown>> {
  const token = fc.constantFrom(`Bearer ${valid}`, `Bearer ${expired}`, 'Bearer ', 'Bearer garbage', `bearer ${valid}`, `Bearer ${valid},Bearer ${expired}`);
  const value = fc.oneof(oddString, token);
  const name = fc.oneof(fc.constantFrom('authorization', 'x-sub', 'x-note', 'cookie', 'origin', 'access-control-request-method', 'x-request-id', ':path', ':method'), fc.string({ maxLength: 8 }));
  const input: fc.Arbitrary<CheckRequestInput> = fc.record(
    {
      method: fc.oneof(fc.constantFrom('GET', 'POST', 'OPTIONS', 'CONNECT', 'get', 'DELETE', ''), oddString),
      path: fc.oneof(pathLike, oddString, token.map((t) => `/api?access_token=${t.slice(7)}`)),
      host: fc.oneof(fc.constantFrom('example.com', '\u212Aey.example.com', ''), oddString),
      scheme: fc.constantFrom('http', 'https', '', 'x"y'),
      headers: fc.dictionary(name, value, { maxKeys: 6 }),
      pseudoHeaders: fc.boolean(),
      id: oddString,
      sourceAddress: fc.oneof(fc.constantFrom('10.0.0.1', '::1', '::ffff:1.2.3.4'), oddString),
      destinationPort: fc.integer({ min: 0, max: 65535 }),
      contextExtensions: fc.dictionary(fc.constantFrom('app', 'namespace', 'x'), fc.constantFrom('f4', 'foo', '', 'istio-system'), { maxKeys: 2 }),
    },
    { requiredKeys: [] },
  );
  const raw = fc.array(fc.tuple(name, value), { maxLength: 4 });
  return fc.oneof(
    { weight: 8, arbitrary: input.map((i) => checkRequest(i)) },
    { weight: 2, arbitrary: fc.tuple(input, raw).map(([i, r]) => checkRequest({ ...i, rawHeaders: r })) },
    { weight: 1, arbitrary: fc.constantFrom({}, { attributes: {} }, { attributes: { request: {} } }, { attributes: { request: { http: {} } } }) },
  );
}

const UNSAFE = /[\r\n\u0000]/;

function expectValidResponse(resp: CheckResponseObject, denyAll: boolean): void {
  const code = resp.status?.code ?? 0;
  expect([0, 3, 5, 7, 16]).toContain(code);
  const status = httpStatusOf(resp);
  if (code === 0) expect(resp.ok_response).toBeDefined();
  else expect([400, 401, 403, 404]).toContain(status);
  if (status === 401) expect(headerOf(resp, 'www-authenticate')).toMatch(/^Bearer/);
  for (const h of headerOptionsOf(resp)) expect(`${h.header?.key ?? ''}${h.header?.value ?? ''}`).not.toMatch(UNSAFE);
  if (denyAll) expect(code).not.toBe(0);
}

describe('random CheckRequests (security.md §3.10 B)', () => {
  it('always answer a valid CheckResponse, never a gRPC error; nothing is allowed under a deny-all policy', async () => {
    await fc.assert(
      fc.asyncProperty(randomRequest(), fc.boolean(), async (req, denyAll) => {
        const resp = await (denyAll ? lockdown : svc).client.check(req);
        expectValidResponse(resp, denyAll);
      }),
      propertyParams('random CheckRequests'),
    );
  });
});

// ---------------------------------------------------------------- token mutations (§3.10 A.1)

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
type Mutation =
  | { kind: 'flip' | 'insert'; at: number; char: string }
  | { kind: 'delete'; at: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'header'; name: string; value: unknown }
  | { kind: 'claim'; name: string; value: unknown }
  | { kind: 'duplicate'; name: string }
  | { kind: 'stdBase64'; segment: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('flip', 'insert') as fc.Arbitrary<'flip' | 'insert'>, at: fc.nat(), char: fc.constantFrom(...B64, '.', '=', '+', '/', ' ', '\t', '\u00e9') }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.integer({ min: 0, max: 2 }), b: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('header' as const), name: fc.constantFrom('alg', 'kid', 'crit', 'b64', 'jku'), value: fc.constantFrom('none', 'HS256', 'PS256', 'ES256', 'k9', '', ['x'], [], false, null, 'http://127.0.0.1:1/jwks') }),
  fc.record({ kind: fc.constant('claim' as const), name: fc.constantFrom('sub', 'iss', 'exp', 'nbf', 'role'), value: fc.constantFrom('admin', 'https://issuer.test', 0, 1e300, -1, 9999999999, null, ['a']) }),
  fc.record({ kind: fc.constant('duplicate' as const), name: fc.constantFrom('sub', 'iss', 'exp') }),
  fc.record({ kind: fc.constant('stdBase64' as const), segment: fc.integer({ min: 0, max: 2 }) }),
);

function reencode(seg: string, edit: (json: string) => string): string {
  return b64u(edit(Buffer.from(seg, 'base64url').toString('utf8')));
}

function mutate(token: string, m: Mutation): string {
  const segs = token.split('.');
  switch (m.kind) {
    case 'flip':
      return token.length === 0 ? m.char : `${token.slice(0, m.at % token.length)}${m.char}${token.slice((m.at % token.length) + 1)}`;
    case 'insert': {
      const i = m.at % (token.length + 1);
      return `${token.slice(0, i)}${m.char}${token.slice(i)}`;
    }
    case 'delete':
      return token.length === 0 ? token : `${token.slice(0, m.at % token.length)}${token.slice((m.at % token.length) + 1)}`;
    case 'swap': {
      const out = [...segs];
      [out[m.a], out[m.b]] = [segs[m.b] ?? '', segs[m.a] ?? ''];
      return out.join('.');
    }
    case 'header':
    case 'claim': {
      const i = m.kind === 'header' ? 0 : 1;
      segs[i] = reencode(segs[i] ?? '', (json) => {
        try {
          return JSON.stringify({ ...(JSON.parse(json) as object), [m.name]: m.value });
        } catch {
          return json;
        }
      });
      return segs.join('.');
    }
    case 'duplicate':
      segs[1] = reencode(segs[1] ?? '', (json) => json.replace(/}$/, `,"${m.name}":"admin"}`));
      return segs.join('.');
    case 'stdBase64':
      segs[m.segment] = Buffer.from(segs[m.segment] ?? '', 'base64url').toString('base64');
      return segs.join('.');
    default: {
      const never: never = m;
      return never;
    }
  }
}

describe('token mutations never escalate (security.md §3.10 A.1)', () => {
  const send = (t: string): Promise<CheckResponseObject> => svc.check({ path: '/api/v1/products/0', headers: { authorization: `Bearer ${t}` } });

  it('a mutated valid token is 401, or allowed with byte-identical claims', async () => {
    const payload = valid.split('.')[1];
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), async (ms) => {
        const t = ms.reduce(mutate, valid);
        const resp = await send(t);
        const status = httpStatusOf(resp);
        if (status === 200) {
          expect(headerOf(resp, 'x-jwt-payload')).toBe(payload);
          expect(headerOf(resp, 'x-sub')).toBe('alice');
        } else if (status !== 401) throw new Error(JSON.stringify({ status, body: resp.denied_response?.body, ms }));
      }),
      propertyParams('mutated valid token'),
    );
  });

  it('a mutated denied (expired) token is never allowed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), async (ms) => {
        const resp = await send(ms.reduce(mutate, expired));
        expect(httpStatusOf(resp)).not.toBe(200);
      }),
      propertyParams('mutated expired token'),
    );
  });
});

// ---------------------------------------------------------------- evaluator vs reference (semantics §2.1–2.5)

describe('policy evaluator agrees with a reference written from the Istio spec', () => {
  it('on random policies, requests and identities', () => {
    let compared = 0;
    const outcomes = { allow: 0, deny: 0 };
    fc.assert(
      fc.property(policiesArb, requestArb, identityArb, (policies, req, id) => {
        const documents: RawDocument[] = policies.map((p, i) => ({ file: 'prop.yaml', index: i + 1, apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', body: toDocumentBody(p) }));
        const compiled = istioDialect.compile(documents, { options: { ...DEFAULT_COMPILE_OPTIONS, rootNamespace: ROOT_NS }, readFile: () => '' });
        const errors = compiled.issues.filter((i) => i.severity === 'error');
        expect(errors).toEqual([]);
        const prepared = prepareRequest(toAttributes(req), { pathNormalization: 'BASE', maxHeaders: 64 });
        if ('kind' in prepared) throw new TypeError(`generator produced an invalid request: ${prepared.kind}`);
        const ours = evaluateAuthorization(compiled.fragment.authorizationPolicies, { request: prepared, identity: toIdentity(id) }, undefined).allowed;
        compared += 1;
        outcomes[ours ? 'allow' : 'deny'] += 1;
        expect(ours).toBe(referenceAllows(policies, req, id, ROOT_NS));
      }),
      propertyParams('evaluator vs reference', 10),
    );
    // The generators must exercise both outcomes, or the comparison proves little.
    expect(outcomes.allow).toBeGreaterThan(compared / 10);
    expect(outcomes.deny).toBeGreaterThan(compared / 10);
  });
});

// ---------------------------------------------------------------- normalizePath (security.md §3.10 A.3, §1.5)

describe('normalizePath invariants', () => {
  const segmentArb = fc.constantFrom('a', 'b', '.', '..', '..;', '..;x', '.;y', '', '%2e', '%2E%2e', '%2f', '%5C', '\\', '%41', '%25', '%', 'x;y=1', '~', '%7e');
  const pathArb = fc.array(segmentArb, { maxLength: 10 }).map((s) => `/${s.join('/')}`);
  const anyArb = fc.oneof(pathArb, fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: fc.oneof(fc.constantFrom('%', '/', '.', 'c0', 'ae', '2e'), loneSurrogate), maxLength: 20 }).map((s) => `/${s}`));
  const isDotSegment = (seg: string): boolean => {
    const head = seg.split(';')[0];
    return head === '.' || head === '..';
  };

  it('never throws; valid output starts with "/", has no "\\" and no dot segment (BASE and both merge modes)', () => {
    fc.assert(
      fc.property(anyArb, fc.constantFrom('BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES') as fc.Arbitrary<'BASE'>, (raw, mode) => {
        const r = normalizePath(raw, mode);
        if (!r.ok) return;
        if (!raw.startsWith('/')) return;
        expect(r.path.startsWith('/')).toBe(true);
        expect(r.path).not.toContain('\\');
        expect(r.path.split('/').some(isDotSegment)).toBe(false);
        if (mode !== 'BASE') expect(r.path).not.toMatch(/\/\//);
      }),
      propertyParams('normalizePath invariants'),
    );
  });

  it('is idempotent on inputs without "%"', () => {
    fc.assert(
      fc.property(pathArb.filter((p) => !p.includes('%')), (raw) => {
        const once = normalizePath(raw);
        if (!once.ok) return;
        expect(normalizePath(once.path)).toEqual(once);
      }),
      propertyParams('normalizePath idempotence'),
    );
  });

  // security.md §1.5 rows (Istio BASE behaviour plus the documented `..;` deviation), and Istio normalization_test.go
  // rows quoted there (`/app//../admin`, `/app/%2E./admin`).
  it.each([
    ['/productpage', '/productpage'],
    ['/productpage/../api/v1/products/0', '/api/v1/products/0'],
    ['//productpage', '//productpage'],
    ['/%70roductpage', '/productpage'],
    ['/ProductPage', '/ProductPage'],
    ['/productpage/', '/productpage/'],
    ['/productpage;jsessionid=1', '/productpage;jsessionid=1'],
    ['/productpage%2F..%2Fapi', '/productpage%2F..%2Fapi'],
    ['/productpage\\..\\api', '/api'],
    ['/public/../api', '/api'],
    ['/public/%2e%2e/api', '/api'],
    ['/public/.%2E/api', '/api'],
    ['/public//../api', '/public/api'],
    ['/public/..;/api', '/api'],
    ['/public/%252e%252e/api', '/public/%252e%252e/api'],
    ['/public/%2e%2e%2fapi', '/public/..%2fapi'],
    ['/app//../admin', '/app/admin'],
    ['/app/%2E./admin', '/admin'],
    ['/%41%5a%61%7A%30%39%2D%5F%7E', '/AZaz09-_~'],
    ['/a%2fb%5cc', '/a%2fb%5cc'],
  ])('BASE: %s → %s', (raw, expected) => {
    expect(normalizePath(raw, 'BASE')).toEqual({ ok: true, path: expected });
  });

  it('DECODE_AND_MERGE_SLASHES decodes %2f and resolves the dot segment it creates', () => {
    expect(normalizePath('/public/%2e%2e%2fapi', 'DECODE_AND_MERGE_SLASHES')).toEqual({ ok: true, path: '/api' });
  });

  it.each(['/public/x%00', '/a b', '/a\tb', '/caf\u00e9', '/a\u007f'])('%j is refused (400)', (raw) => {
    expect(normalizePath(raw).ok).toBe(false);
  });

  it('is linear: 64 KiB of "/.." takes well under 50 ms', () => {
    const started = performance.now();
    expect(normalizePath('/..'.repeat(21_000))).toEqual({ ok: true, path: '/' });
    expect(performance.now() - started).toBeLessThan(50);
  });
});
