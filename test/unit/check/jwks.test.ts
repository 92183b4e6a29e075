/**
 * KeyStore (security.md §2.2–§2.4) against a local JWKS server: single flight, unknown-kid cooldown (injected
 * clock), failure backoff (Math.random pinned), stale limit, no placeholder keys, SSRF guard, readiness.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { DEFAULT_KEYSTORE_OPTIONS, KeyStore, type KeyStoreOptions, redactUri } from '../../../src/check/jwks.js';
import type { KeySource } from '../../../src/model/policy.js';
import { type JwksServer, startJwksServer } from '../../helpers/jwks-server.js';
import { generateTestKey, jwksOf } from '../../helpers/tokens.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const o of open.splice(0)) await o.close();
});

interface Rig {
  readonly server: JwksServer;
  readonly store: KeyStore;
  readonly source: Extract<KeySource, { kind: 'remote' }>;
  readonly clock: { ms: number };
  readonly warnings: string[];
}

async function rig(route: Parameters<JwksServer['set']>[1], options: Partial<KeyStoreOptions> = {}): Promise<Rig> {
  const server = await startJwksServer({ '/jwks.json': route });
  open.push(server);
  const clock = { ms: 1_000_000 };
  const warnings: string[] = [];
  const store = new KeyStore({
    ...DEFAULT_KEYSTORE_OPTIONS,
    refreshMs: 3600_000,
    now: () => clock.ms,
    onWarn: (data, message) => warnings.push(`${message} ${JSON.stringify(data)}`),
    onFetch: () => undefined,
    ...options,
  });
  open.unshift(store);
  return { server, store, source: { kind: 'remote', uri: `${server.url}/jwks.json`, timeoutMs: 1000 }, clock, warnings };
}

const soon = (r: Rig): number => r.clock.ms + 2000;
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

describe('single flight', () => {
  it('50 concurrent cold requests cause exactly 1 fetch and all get the same set', async () => {
    const r = await rig({ body: jwksOf(await generateTestKey('RS256', 'k1')), delayMs: 100 });
    const sets = await Promise.all(Array.from({ length: 50 }, () => r.store.get(r.source, soon(r))));
    expect(r.server.count()).toBe(1);
    expect(new Set(sets.map((s) => s?.generation)).size).toBe(1);
    expect(sets[0]?.keys.map((k) => k.kid)).toEqual(['k1']);
  });

  it('concurrent unknown-kid refreshes coalesce into one fetch', async () => {
    const r = await rig({ body: jwksOf(await generateTestKey('RS256', 'k1')) });
    await r.store.get(r.source, soon(r));
    await Promise.all(Array.from({ length: 20 }, () => r.store.refreshForUnknownKid(r.source, soon(r))));
    expect(r.server.count()).toBe(2);
  });
});

describe('unknown-kid cooldown (30 s per URI, from the previous attempt)', () => {
  it('allows one refetch, then none until the cooldown has passed', async () => {
    const r = await rig({ body: jwksOf(await generateTestKey('RS256', 'k1')) });
    await r.store.get(r.source, soon(r));
    expect(r.server.count()).toBe(1);
    await r.store.refreshForUnknownKid(r.source, soon(r));
    expect(r.server.count()).toBe(2);
    await r.store.refreshForUnknownKid(r.source, soon(r));
    r.clock.ms += 29_999;
    await r.store.refreshForUnknownKid(r.source, soon(r));
    expect(r.server.count()).toBe(2);
    r.clock.ms += 1;
    await r.store.refreshForUnknownKid(r.source, soon(r));
    expect(r.server.count()).toBe(3);
  });

  it('counts a failed attempt too: a failing endpoint is not hit on every unknown kid', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999); // background retries ~1 s away: outside this test
    const r = await rig({ body: jwksOf(await generateTestKey('RS256', 'k1')) });
    await r.store.get(r.source, soon(r));
    r.server.set('/jwks.json', { status: 500 });
    await r.store.refreshForUnknownKid(r.source, soon(r));
    expect(r.server.count()).toBe(2);
    r.clock.ms += 10_000;
    for (let i = 0; i < 10; i++) await r.store.refreshForUnknownKid(r.source, soon(r));
    expect(r.server.count()).toBe(2);
    expect(r.store.peek(r.source)?.keys).toHaveLength(1); // stale-if-error: the old keys stay
  });

  it('a request lacking keys triggers at most one fetch per cooldown as well', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const r = await rig({ status: 500 });
    r.store.register([r.source]);
    await until(() => r.server.count() === 1);
    await sleep(20);
    for (let i = 0; i < 10; i++) expect(await r.store.get(r.source, soon(r))).toBeUndefined();
    expect(r.server.count()).toBe(2);
    r.clock.ms += 30_000;
    await r.store.get(r.source, soon(r));
    expect(r.server.count()).toBe(3);
  });
});

describe('background refresh and backoff', () => {
  it('failures back off 1 s × 2^n with full jitter (random pinned at 0.5 ⇒ 0.5 s, 1 s, 2 s)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const r = await rig({ status: 500 }, { now: Date.now });
    r.store.register([r.source]);
    await sleep(300);
    expect(r.server.count()).toBe(1);
    await sleep(500); // t ≈ 0.8 s: the 0.5 s retry happened, the next is due at 1.5 s
    expect(r.server.count()).toBe(2);
    await sleep(900); // t ≈ 1.7 s
    expect(r.server.count()).toBe(3);
  });

  it('success refreshes at the interval ±10 % (random pinned at 0.5 ⇒ exactly the interval)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const r = await rig({ body: jwksOf(await generateTestKey('RS256', 'k1')) }, { now: Date.now, refreshMs: 250 });
    r.store.register([r.source]);
    await sleep(900); // fetches at 0, 0.25, 0.5, 0.75
    expect(r.server.count()).toBe(4);
  });
});

describe('what counts as keys', () => {
  it('a failed set is no keys (never a placeholder) and its error is reported without the body', async () => {
    const r = await rig({ status: 500, body: 'secret body' });
    expect(await r.store.get(r.source, soon(r))).toBeUndefined();
    expect(r.store.peek(r.source)).toBeUndefined();
    expect(r.store.status()).toEqual([{ source: `${r.server.url}/jwks.json`, keys: 0, ageSeconds: undefined, lastError: 'HTTP status 500' }]);
    expect(r.warnings.join('\n')).not.toContain('secret body');
    expect(r.store.ready()).toBe(false);
  });

  it('keys older than maxStaleMs are dropped', async () => {
    const r = await rig({ body: jwksOf(await generateTestKey('RS256', 'k1')) }, { maxStaleMs: 60_000 });
    expect(await r.store.get(r.source, soon(r))).toBeDefined();
    r.clock.ms += 60_000;
    expect(r.store.peek(r.source)).toBeDefined();
    r.clock.ms += 1;
    expect(r.store.peek(r.source)).toBeUndefined();
  });

  it('a remote key with private members is dropped, with a warning', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const priv = { ...(await exportJWK(privateKey)), kid: 'leaked' };
    const good = await generateTestKey('RS256', 'good');
    const r = await rig({ body: JSON.stringify({ keys: [priv, good.publicJwk] }) });
    const set = await r.store.get(r.source, soon(r));
    expect(set?.keys.map((k) => k.kid)).toEqual(['good']);
    expect(r.warnings.join('\n')).toMatch(/kid leaked\) dropped: it carries private key members/);
    expect(r.warnings.join('\n')).not.toContain(String(priv.d));
  });

  it('a set of more than 64 keys is refused as a whole (a kid-less token costs one check per candidate)', async () => {
    const k = (await generateTestKey('ES256', null)).publicJwk;
    const r = await rig({ body: JSON.stringify({ keys: Array.from({ length: 65 }, () => k) }) });
    expect(await r.store.get(r.source, soon(r))).toBeUndefined();
    expect(r.store.status()[0]?.lastError).toMatch(/more than 64 keys/);
    r.server.set('/jwks.json', { body: JSON.stringify({ keys: Array.from({ length: 64 }, () => k) }) });
    r.clock.ms += 30_000;
    expect((await r.store.refreshForUnknownKid(r.source, soon(r)))?.keys).toHaveLength(64);
  });

  it('a rotation gives a new generation; an identical refetch keeps it', async () => {
    const k1 = await generateTestKey('RS256', 'k1');
    const r = await rig({ body: jwksOf(k1) });
    const first = await r.store.get(r.source, soon(r));
    const same = await r.store.refreshForUnknownKid(r.source, soon(r));
    expect(same?.generation).toBe(first?.generation);
    r.server.set('/jwks.json', { body: jwksOf(k1, await generateTestKey('RS256', 'k2')) });
    r.clock.ms += 30_000;
    const rotated = await r.store.refreshForUnknownKid(r.source, soon(r));
    expect(rotated?.generation).not.toBe(first?.generation);
    expect(rotated?.keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
  });

  it.each(['http://169.254.169.254/jwks.json', 'http://[fe80::1]/jwks.json', 'http://100.100.100.200/jwks.json'])('refuses the link-local / metadata address %s without connecting', async (uri) => {
    const store = new KeyStore({ ...DEFAULT_KEYSTORE_OPTIONS, onWarn: () => undefined, onFetch: () => undefined });
    open.push(store);
    const source: KeySource = { kind: 'remote', uri, timeoutMs: 5000 };
    const started = Date.now();
    expect(await store.get(source, Date.now() + 5000)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(500);
    expect(store.status()[0]?.lastError).toMatch(/blocked/);
  });
});

describe('readiness, registration, status', () => {
  it('ready only after a first success (or, with allowStartWithoutKeys, after a first attempt)', async () => {
    const strict = await rig({ status: 500 });
    strict.store.register([strict.source]);
    await until(() => strict.server.count() >= 1);
    await sleep(20);
    expect(strict.store.ready()).toBe(false);
    const lenient = await rig({ status: 500 }, { allowStartWithoutKeys: true });
    lenient.store.register([lenient.source]);
    await until(() => lenient.store.ready());
    expect(lenient.store.peek(lenient.source)).toBeUndefined();
  });

  it('register keeps exactly the given sources and shares one entry per URI', async () => {
    const r = await rig({ body: jwksOf(await generateTestKey('RS256', 'k1')) });
    const other: KeySource = { kind: 'remote', uri: `${r.server.url}/other.json`, timeoutMs: 1000 };
    r.store.register([r.source, { ...r.source, timeoutMs: 3000 }, other]);
    expect(r.store.status().map((s) => s.source)).toEqual([`${r.server.url}/jwks.json`, `${r.server.url}/other.json`]);
    r.store.register([other]);
    expect(r.store.status().map((s) => s.source)).toEqual([`${r.server.url}/other.json`]);
  });

  it('inline sets keep one generation per source object', () => {
    const store = new KeyStore({ ...DEFAULT_KEYSTORE_OPTIONS, onWarn: () => undefined, onFetch: () => undefined });
    const a: KeySource = { kind: 'inline', keys: [], origin: 'a' };
    const b: KeySource = { kind: 'inline', keys: [], origin: 'a' };
    expect(store.peek(a)?.generation).toBe(store.peek(a)?.generation);
    expect(store.peek(a)?.generation).not.toBe(store.peek(b)?.generation);
  });

  it('status and logs never show URI userinfo', () => {
    expect(redactUri('https://user:secret@idp.test/jwks')).toBe('https://idp.test/jwks');
    expect(redactUri('https://idp.test/a@b')).toBe('https://idp.test/a@b');
  });
});
