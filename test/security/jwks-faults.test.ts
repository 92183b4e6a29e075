/**
 * JWKS fault injection (security.md §2.2, §2.3, §3.2, §3.10 C) against the local JWKS server: a RequestAuthentication
 * with `jwksUri` on 127.0.0.1 and `timeout: 1s`, plus the F1-style DENY so `/productpage` stays exempt.
 * Every scenario asserts the decisions and the fetch counts.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { generateTestKey, jwksOf, mintToken, type TestKey } from '../helpers/tokens.js';
import { bodyOf, httpStatusOf } from '../helpers/upstream-client.js';

const ISSUER = 'https://remote.test';
const API = '/api/v1/products/0';

function remotePolicies(jwksUri: string): Record<string, string> {
  return {
    'remote.yaml': `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: remote, namespace: istio-system}
spec:
  jwtRules:
  - issuer: ${ISSUER}
    jwksUri: ${jwksUri}
    timeout: 1s
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: istio-system}
spec:
  action: DENY
  rules:
  - from: [{source: {notRequestPrincipals: ["*"]}}]
    to: [{operation: {notPaths: ["/productpage"]}}]
`,
  };
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

/** A JWKS server and a service using it. Start waits for keys at most `jwks-timeout` (200 ms here; rules say 1 s). */
async function setup(route: Parameters<JwksServer['set']>[1], flags: Record<string, string> = {}, path = '/jwks.json'): Promise<{ jwks: JwksServer; svc: TestService }> {
  const jwks = await startJwksServer({ [path]: route });
  open.push(jwks);
  const svc = await startTestService(remotePolicies(`${jwks.url}${path}`), { 'jwks-timeout': '200ms', 'log-level': 'warn', ...flags });
  open.unshift(svc);
  return { jwks, svc };
}

async function decide(svc: TestService, token: string | undefined, path = API): Promise<{ status: number; reason: string | undefined }> {
  const resp = await svc.check({ path, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: httpStatusOf(resp), reason: (bodyOf(resp) as { error?: string } | undefined)?.error };
}

async function readyz(svc: TestService): Promise<number> {
  return (await fetch(`${svc.httpUrl}/readyz`)).status;
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const k1: Promise<TestKey> = generateTestKey('RS256', 'k1');
const k2: Promise<TestKey> = generateTestKey('RS256', 'k2');
const tokenFor = async (key: TestKey, kid?: string): Promise<string> =>
  mintToken(key, { iss: ISSUER, sub: 'alice' }, kid === undefined ? {} : { header: { kid } });

const UNAVAILABLE = { status: 401, reason: 'jwks_unavailable' };

describe('keys that cannot be had: 401 jwks_unavailable, exempt path still open', () => {
  it.each([
    { name: 'HTTP 500', route: { status: 500, body: '{"keys":[]}' } },
    { name: 'garbage JSON', route: { body: '{"keys": [ {"kty": "RSA", ' } },
    { name: 'JSON without a keys array', route: { body: '{"jwks":[]}' } },
    { name: 'an empty key set', route: { body: '{"keys":[]}' } },
    { name: 'a 302 redirect (never followed)', route: { status: 302, headers: { location: '/good.json' } } },
  ])('$name', async ({ route }) => {
    const { jwks, svc } = await setup(route);
    jwks.set('/good.json', { body: jwksOf(await k1) });
    expect(await decide(svc, await tokenFor(await k1))).toEqual(UNAVAILABLE);
    expect(await decide(svc, undefined, '/productpage')).toEqual({ status: 200, reason: undefined });
    expect(await decide(svc, undefined)).toEqual({ status: 403, reason: 'denied_by_rule' });
    expect(jwks.count('/good.json')).toBe(0);
    expect(jwks.count()).toBeGreaterThanOrEqual(1);
  });

  it('several tokens while the fetch fails are answered, not crashed on (Envoy CVE-2025-64527)', async () => {
    const { svc } = await setup({ status: 500 });
    const [a, b] = await Promise.all([tokenFor(await k1), tokenFor(await k2)]);
    const two = await svc.check({ path: `${API}?access_token=${b}`, headers: { authorization: `Bearer ${a}` } });
    expect({ status: httpStatusOf(two), reason: (bodyOf(two) as { error?: string }).error }).toEqual({ status: 401, reason: 'multiple_tokens' });
    const same = await svc.check({ path: `${API}?access_token=${a}`, headers: { authorization: `Bearer ${a}` } });
    expect({ status: httpStatusOf(same), reason: (bodyOf(same) as { error?: string }).error }).toEqual(UNAVAILABLE);
    expect(await decide(svc, undefined, '/productpage')).toEqual({ status: 200, reason: undefined });
  });

  it('a body over 512 KiB is refused even though it holds a good key', async () => {
    const good = JSON.parse(jwksOf(await k1)) as { keys: unknown[] };
    const { svc } = await setup({ body: JSON.stringify({ ...good, pad: 'x'.repeat(600 * 1024) }) });
    expect(await decide(svc, await tokenFor(await k1))).toEqual(UNAVAILABLE);
  });

  it('the same set just under the limit is accepted', async () => {
    const good = JSON.parse(jwksOf(await k1)) as { keys: unknown[] };
    const { svc } = await setup({ body: JSON.stringify({ ...good, pad: 'x'.repeat(400 * 1024) }) });
    expect(await decide(svc, await tokenFor(await k1))).toEqual({ status: 200, reason: undefined });
  });

  it('an answer slower than the rule timeout (1 s) fails the fetch; the Check is answered within it', async () => {
    const { jwks, svc } = await setup({ body: jwksOf(await k1), delayMs: 3000 });
    const started = Date.now();
    expect(await decide(svc, await tokenFor(await k1))).toEqual(UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(jwks.count()).toBeGreaterThanOrEqual(1);
  });

  it('connection refused', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
      });
    });
    const svc = await startTestService(remotePolicies(`http://127.0.0.1:${port}/jwks.json`), { 'jwks-timeout': '200ms', 'log-level': 'warn' });
    open.push(svc);
    expect(await decide(svc, await tokenFor(await k1))).toEqual(UNAVAILABLE);
    expect(await decide(svc, undefined, '/productpage')).toEqual({ status: 200, reason: undefined });
  });

  it('a failing endpoint is not hit once per token: request-triggered fetches are bounded', async () => {
    const { jwks, svc } = await setup({ status: 500 });
    const before = jwks.count();
    const token = await tokenFor(await k1);
    for (let i = 0; i < 30; i++) expect(await decide(svc, token)).toEqual(UNAVAILABLE);
    // One request-triggered fetch per 30 s cooldown, plus the background backoff (1 s, 2 s, …) within these few 100 ms.
    expect(jwks.count() - before).toBeLessThanOrEqual(2);
  });
});

describe('rotation, cooldown and stale keys (security.md §2.3)', () => {
  it('a new kid is accepted after exactly one refetch; a removed kid is rejected after the next refresh', async () => {
    const a = await k1;
    const b = await k2;
    const { jwks, svc } = await setup({ body: jwksOf(a) }, { 'jwks-refresh': '1s' });
    const tokenA = await tokenFor(a);
    expect(await decide(svc, tokenA)).toEqual({ status: 200, reason: undefined });
    const afterStart = jwks.count();
    jwks.set('/jwks.json', { body: jwksOf(a, b) });
    expect(await decide(svc, await tokenFor(b))).toEqual({ status: 200, reason: undefined });
    expect(jwks.count()).toBe(afterStart + 1);
    jwks.set('/jwks.json', { body: jwksOf(b) });
    const n = jwks.count();
    await until(() => jwks.count() > n, 3000);
    await new Promise((r) => setTimeout(r, 50));
    // tokenA was verified (and cached) before: the cache entry carries the old key-set generation.
    expect(await decide(svc, tokenA)).toEqual({ status: 401, reason: 'key_not_found' });
  });

  it('a flood of 100 tokens with random kids costs at most one unknown-kid fetch per cooldown', async () => {
    const a = await k1;
    const { jwks, svc } = await setup({ body: jwksOf(a) });
    const before = jwks.count();
    const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => tokenFor(a, `rnd-${i}-${Math.random().toString(36).slice(2)}`)));
    const results = await Promise.all(tokens.map((t) => decide(svc, t)));
    expect(results.every((r) => r.status === 401 && r.reason === 'key_not_found')).toBe(true);
    expect(jwks.count() - before).toBeLessThanOrEqual(1);
    expect(await decide(svc, await tokenFor(a))).toEqual({ status: 200, reason: undefined });
  });

  it('stale-if-error: when the endpoint starts failing, the cached keys keep working', async () => {
    const a = await k1;
    const { jwks, svc } = await setup({ body: jwksOf(a) }, { 'jwks-refresh': '1s' });
    jwks.set('/jwks.json', { status: 500 });
    const n = jwks.count();
    await until(() => jwks.count() >= n + 1, 3000);
    expect(await decide(svc, await tokenFor(a))).toEqual({ status: 200, reason: undefined });
    expect(await readyz(svc)).toBe(200);
  });
});

describe('readiness (security.md §3.5)', () => {
  it('/readyz is 503 while the first fetch is in flight and 200 once it succeeded', async () => {
    // Start waits for keys at most 200 ms (jwks-timeout); the endpoint answers after 700 ms, inside the rule timeout of 3 s.
    const jwks = await startJwksServer({ '/jwks.json': { body: jwksOf(await k1), delayMs: 700 } });
    open.push(jwks);
    const svc = await startTestService(
      { 'remote.yaml': (remotePolicies(`${jwks.url}/jwks.json`)['remote.yaml'] ?? '').replace('timeout: 1s', 'timeout: 3s') },
      { 'jwks-timeout': '200ms', 'log-level': 'warn' },
    );
    open.unshift(svc);
    expect(await readyz(svc)).toBe(503);
    expect(await decide(svc, undefined, '/productpage')).toEqual({ status: 200, reason: undefined });
    await until(async () => (await readyz(svc)) === 200, 3000);
    expect(jwks.count()).toBe(1);
    expect(await decide(svc, await tokenFor(await k1))).toEqual({ status: 200, reason: undefined });
  });
});
