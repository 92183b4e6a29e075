/**
 * The verified-token cache must never change a decision: a hit decides exactly as a miss would, at every point of
 * the token's life (the clock is injected and moved), and after a provider or key-set change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_KEYSTORE_OPTIONS, KeyStore } from '../../../src/check/jwks.js';
import { DEFAULT_TOKEN_CACHE_OPTIONS, TokenCache } from '../../../src/check/token-cache.js';
import { type VerifyDeps, type VerifyResult, verifyToken } from '../../../src/check/verify-token.js';
import { checkJwk } from '../../../src/model/jwk.js';
import type { JwtProvider, KeySource } from '../../../src/model/policy.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateTestKey, jwksOf, mintToken, type TestKey } from '../../helpers/tokens.js';

const ISS = 'https://issuer.test';
const T0 = 1_900_000_000; // seconds

function provider(keys: KeySource, extra: Partial<JwtProvider> = {}): JwtProvider {
  return {
    id: 'test.yaml#1 spec.jwtRules[0]',
    issuer: ISS,
    audiences: [],
    audiencesAll: false,
    keys,
    clockSkewSec: 60,
    requireExpiration: false,
    maxLifetimeSec: undefined,
    subject: undefined,
    spaceDelimitedClaims: [],
    outputPayloadToHeader: undefined,
    outputClaimToHeaders: [],
    audienceMismatchStatus: 403,
    ...extra,
  };
}

function inline(key: TestKey): KeySource {
  const c = checkJwk(key.publicJwk);
  if (!c.ok) throw new TypeError(c.reason);
  return { kind: 'inline', keys: [c.key], origin: 'test' };
}

/** A clock, a key store and a cache sharing it; `deps(cached)` with or without the cache. */
function world(options: Partial<typeof DEFAULT_TOKEN_CACHE_OPTIONS> = {}) {
  const clock = { ms: T0 * 1000 };
  const now = (): number => clock.ms;
  const keys = new KeyStore({ ...DEFAULT_KEYSTORE_OPTIONS, refreshMs: 3600_000, unknownKidCooldownMs: 0, now, onWarn: () => undefined, onFetch: () => undefined });
  const cache = new TokenCache({ ...DEFAULT_TOKEN_CACHE_OPTIONS, ...options }, now);
  const deps = (cached: boolean): VerifyDeps => ({ keys, cache: cached ? cache : undefined, now, deadline: now() + 2000, maxTokenBytes: 8192 });
  return { clock, keys, cache, deps };
}

const verdict = (r: VerifyResult): unknown => (r.ok ? { ok: true, identity: r.identity, provider: r.provider.id } : { ok: false, status: r.status, reason: r.reason });

let key: TestKey;
const stores: KeyStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('token cache: a hit decides like a miss', () => {
  it('at every point of the token life, including both skew boundaries', async () => {
    key ??= await generateTestKey('RS256', 'k1');
    const w = world();
    stores.push(w.keys);
    const p = provider(inline(key));
    const token = await mintToken(key, { iss: ISS, sub: 'alice', nbf: T0 - 10, exp: T0 + 100 }, { nowSec: T0 });
    const warm = await verifyToken(token, [p], w.deps(true));
    expect(warm).toMatchObject({ ok: true, cached: false });
    expect(w.cache.size).toBe(1);
    // exp + skew = T0 + 160 is the last acceptable second; nbf − skew = T0 − 70 the first.
    // The first four offsets lie inside the entry's TTL, so each success there must be a hit; the rest walk past exp,
    // back before nbf and forward again (the entry is gone by then: misses must still decide the same).
    for (const [i, offset] of [0, 1, 100, 159, 160, 161, 162, 299, -69, -70, -71, -72, 5, 161].entries()) {
      w.clock.ms = (T0 + offset) * 1000 + 999;
      const hitsBefore = w.cache.hits;
      const withCache = await verifyToken(token, [p], w.deps(true));
      const fresh = await verifyToken(token, [p], w.deps(false));
      expect(verdict(withCache), `offset ${offset}`).toEqual(verdict(fresh));
      if (i < 4) expect(w.cache.hits, `offset ${offset}`).toBe(hitsBefore + 1);
    }
    w.clock.ms = (T0 + 161) * 1000;
    expect(await verifyToken(token, [p], w.deps(true))).toMatchObject({ ok: false, reason: 'token_expired' });
    w.clock.ms = (T0 - 71) * 1000;
    expect(await verifyToken(token, [p], w.deps(true))).toMatchObject({ ok: false, reason: 'token_not_yet_valid' });
  });

  it('a hit returns the same identity and says so', async () => {
    key ??= await generateTestKey('RS256', 'k1');
    const w = world();
    stores.push(w.keys);
    const p = provider(inline(key));
    const token = await mintToken(key, { iss: ISS, sub: 'alice' }, { nowSec: T0 });
    const miss = await verifyToken(token, [p], w.deps(true));
    const hit = await verifyToken(token, [p], w.deps(true));
    expect(hit).toMatchObject({ ok: true, cached: true });
    expect(hit.ok && miss.ok && hit.identity).toEqual(miss.ok && miss.identity);
  });

  it('a changed provider configuration misses (audiences added ⇒ 403 as a fresh verification says)', async () => {
    key ??= await generateTestKey('RS256', 'k1');
    const w = world();
    stores.push(w.keys);
    const source = inline(key);
    const token = await mintToken(key, { iss: ISS, sub: 'alice', aud: 'other' }, { nowSec: T0 });
    expect(await verifyToken(token, [provider(source)], w.deps(true))).toMatchObject({ ok: true });
    const stricter = provider(source, { audiences: ['api.test'] });
    expect(verdict(await verifyToken(token, [stricter], w.deps(true)))).toEqual(verdict(await verifyToken(token, [stricter], w.deps(false))));
    expect(await verifyToken(token, [stricter], w.deps(true))).toMatchObject({ ok: false, status: 403, reason: 'audience_mismatch' });
  });

  it('a rotated-out key misses: the entry carries the key-set generation', async () => {
    key ??= await generateTestKey('RS256', 'k1');
    const k2 = await generateTestKey('RS256', 'k2');
    const server = await startJwksServer({ '/jwks.json': { body: jwksOf(key) } });
    try {
      const w = world();
      stores.push(w.keys);
      const source: KeySource = { kind: 'remote', uri: `${server.url}/jwks.json`, timeoutMs: 1000 };
      const p = provider(source);
      w.keys.register([source]);
      expect(await w.keys.get(source, w.clock.ms + 2000)).toBeDefined();
      const token = await mintToken(key, { iss: ISS, sub: 'alice' }, { nowSec: T0 });
      expect(await verifyToken(token, [p], w.deps(true))).toMatchObject({ ok: true, cached: false });
      expect(await verifyToken(token, [p], w.deps(true))).toMatchObject({ ok: true, cached: true });
      server.set('/jwks.json', { body: jwksOf(k2) });
      await w.keys.refreshForUnknownKid(source, w.clock.ms + 2000);
      expect(await verifyToken(token, [p], w.deps(true))).toMatchObject({ ok: false, reason: 'key_not_found' });
    } finally {
      await server.close();
    }
  });
});

describe('token cache bounds', () => {
  it('never outlives maxTtlMs even for a token without exp', async () => {
    key ??= await generateTestKey('RS256', 'k1');
    const w = world({ maxTtlMs: 60_000 });
    stores.push(w.keys);
    const p = provider(inline(key));
    const token = await mintToken(key, { iss: ISS, sub: 'alice', exp: undefined }, { nowSec: T0 });
    await verifyToken(token, [p], w.deps(true));
    const k = w.cache.keyOf(token) ?? '';
    expect(w.cache.get(k)).toBeDefined();
    w.clock.ms += 60_001;
    await new Promise((r) => setTimeout(r, 5)); // lru-cache memoises "now" for 1 ms of real time (ttlResolution)
    expect(w.cache.get(k)).toBeUndefined();
    expect(await verifyToken(token, [p], w.deps(true))).toMatchObject({ ok: true, cached: false });
  });

  it('does not store an entry whose token is already past exp + skew', async () => {
    key ??= await generateTestKey('RS256', 'k1');
    const w = world();
    stores.push(w.keys);
    const cache = w.cache;
    cache.set('k', { identity: { notAfter: T0 - 1 } as never, providerFingerprint: '', keyGeneration: 0 });
    expect(cache.size).toBe(0);
  });

  it('keys by SHA-256 (never the token itself) and skips tokens over maxTokenBytes', () => {
    const cache = new TokenCache({ ...DEFAULT_TOKEN_CACHE_OPTIONS, maxTokenBytes: 16 }, () => 0);
    expect(cache.keyOf('a.b.c')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cache.keyOf('a.b.c')).not.toContain('a.b.c');
    expect(cache.keyOf('x'.repeat(17))).toBeUndefined();
  });

  it('holds at most maxEntries', async () => {
    key ??= await generateTestKey('RS256', 'k1');
    const w = world({ maxEntries: 3 });
    stores.push(w.keys);
    const p = provider(inline(key));
    for (let i = 0; i < 10; i++) await verifyToken(await mintToken(key, { iss: ISS, sub: `u${i}` }, { nowSec: T0 }), [p], w.deps(true));
    expect(w.cache.size).toBe(3);
  });
});
