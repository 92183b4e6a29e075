/**
 * Log redaction (security.md §3.7, Authorino's redact_test.go idea): run a suite of decisions at debug level and
 * assert that no log line contains a token, any 16-character piece of a token segment, an HMAC secret, a JWKS
 * modulus or private member, or a JWKS response body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { type JwksServer, startJwksServer } from '../helpers/jwks-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { generateTestKey, jwksOf, mintToken } from '../helpers/tokens.js';
import { httpStatusOf } from '../helpers/upstream-client.js';
import { ISSUER, f1Keys, f1Policies, nowSec, signRaw, validClaims, type F1Keys } from './f1.js';

const WINDOW = 16;
const BODY_MARKER = 'jwks-body-secret-7f3a9c1e5b2d4068';

let keys: F1Keys;
let svc: TestService;
let jwks: JwksServer;
/** Everything that must never be logged. */
const secrets: string[] = [];
const tokens: string[] = [];

beforeAll(async () => {
  keys = await f1Keys();
  // An inline key pasted with its private half: load warns, but must not log the key material.
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const priv = { ...(await exportJWK(privateKey)), kid: 'pasted' };
  const policies = f1Policies(keys);
  const f1 = (policies['f1.yaml'] ?? '').replace(`"kid":"hs1"}`, `"kid":"hs1"},${JSON.stringify(priv)}`);
  const remote = await generateTestKey('RS256', 'r1');
  jwks = await startJwksServer({
    '/good.json': { body: jwksOf(remote) },
    '/broken.json': { status: 500, body: `{"error":"${BODY_MARKER}"}` },
    '/garbage.json': { body: `<html>${BODY_MARKER}</html>` },
  });
  const remoteRules = ['good', 'broken', 'garbage']
    .map((n) => `  - {issuer: 'https://${n}.test', jwksUri: '${jwks.url}/${n}.json', timeout: 1s}`)
    .join('\n');
  svc = await startTestService({
    'f1.yaml': f1,
    'remote.yaml': `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: remote, namespace: istio-system}\nspec:\n  jwtRules:\n${remoteRules}\n`,
  }, { 'jwks-timeout': '300ms' });

  for (const k of [keys.k1, keys.ec1, keys.ed1, keys.hs1]) {
    for (const m of ['n', 'k', 'x', 'y'] as const) {
      const v = k.publicJwk[m];
      if (typeof v === 'string') secrets.push(v);
    }
  }
  for (const m of ['n', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
    const v = priv[m];
    if (typeof v === 'string') secrets.push(v);
  }
  secrets.push(Buffer.from(keys.hs1.privateKey as Uint8Array).toString('hex'), BODY_MARKER);
  const r = remote.publicJwk.n;
  if (typeof r === 'string') secrets.push(r);

  const k1 = { alg: 'RS256', kid: 'k1' };
  tokens.push(
    signRaw(keys.k1, k1, validClaims({ note: 'secret-claim-value-0123456789' })),
    signRaw(keys.k1, k1, validClaims({ exp: nowSec() - 3600 })),
    signRaw(keys.k1, k1, validClaims({ iss: 'https://unknown.test' })),
    signRaw(keys.k1, { alg: 'RS256', kid: 'k9-0123456789abcdef' }, validClaims()),
    signRaw(keys.attacker, k1, validClaims()),
    signRaw(keys.hs1, { alg: 'HS256', kid: 'hs1' }, validClaims()),
    signRaw(keys.ec1, { alg: 'ES256', kid: 'ec1' }, validClaims({ aud: ['a', 5] })),
    signRaw(keys.k1, k1, `{"iss":"${ISSUER}","sub":"alice","sub":"admin"}`),
    signRaw(keys.k1, { ...k1, crit: ['x'] }, validClaims()),
    await mintToken(remote, { iss: 'https://good.test', sub: 'bob' }),
    await mintToken(remote, { iss: 'https://broken.test', sub: 'bob' }),
    await mintToken(remote, { iss: 'https://garbage.test', sub: 'bob' }),
    await mintToken(remote, { iss: 'https://good.test', sub: 'bob' }, { header: { kid: 'unknown-kid' } }),
  );
});
afterAll(async () => {
  await svc.close();
  await jwks.close();
});

describe('no secrets in logs (debug level)', () => {
  it('a whole decision suite leaves no token, token piece, key material or JWKS body in the log', async () => {
    const statuses = new Set<number>();
    for (const t of tokens) {
      for (const input of [
        { path: '/api', headers: { authorization: `Bearer ${t}`, 'x-request-id': 'redaction-test' } },
        { path: `/productpage?access_token=${t}` },
        { path: '/api', headers: { authorization: `Bearer ${t}`, cookie: `session=${t}` } },
        { path: `/api?access_token=${t}&access_token=${t}x`, headers: { authorization: `Bearer ${t}` } },
        { method: 'get', path: `/api?access_token=${t}` },
        { path: `/api/${t}` },
      ]) {
        statuses.add(httpStatusOf(await svc.check(input)));
      }
    }
    // The suite really produced allows and each kind of denial.
    expect([...statuses].sort()).toEqual([200, 400, 401, 403]);
    expect(svc.logs.length).toBeGreaterThan(tokens.length);
    expect(svc.logs.some((l) => l.includes('"level":"debug"'))).toBe(true);

    const text = svc.logs.join('\n');
    const pieces = new Set<string>();
    for (let i = 0; i + WINDOW <= text.length; i++) pieces.add(text.slice(i, i + WINDOW));
    const leaks: string[] = [];
    const check = (label: string, value: string): void => {
      if (value.length < WINDOW) return;
      for (let i = 0; i + WINDOW <= value.length; i++) {
        if (pieces.has(value.slice(i, i + WINDOW))) {
          leaks.push(`${label}: ${value.slice(i, i + WINDOW)}`);
          return;
        }
      }
    };
    tokens.forEach((t, i) => t.split('.').forEach((seg, j) => check(`token ${i} segment ${j}`, seg)));
    secrets.forEach((s, i) => check(`secret ${i}`, s));
    expect(leaks).toEqual([]);
    for (const t of tokens) expect(text.includes(t)).toBe(false);
  });
});
