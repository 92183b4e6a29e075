import { type UsableKey, checkJwks } from '../model/jwk.js';
import type { KeySource } from '../model/policy.js';
import { type FetchRules, fetchJson } from './fetch-json.js';

/** Keys of one source at one moment. `generation` changes whenever the keys do (token-cache keys include it). */
export interface KeySet {
  readonly generation: number;
  readonly keys: readonly UsableKey[];
}

export interface KeyStoreOptions {
  readonly refreshMs: number;
  readonly maxStaleMs: number;
  readonly unknownKidCooldownMs: number;
  readonly maxBodyBytes: number;
  readonly allowLinkLocal: boolean;
  readonly verifyTls: boolean;
  readonly caFile: string | undefined;
  /** Ready even before every remote set has been fetched once (`--allow-start-without-keys`). */
  readonly allowStartWithoutKeys: boolean;
  readonly now: () => number;
  readonly onWarn: (data: Record<string, unknown>, message: string) => void;
  readonly onFetch: (uri: string, outcome: 'success' | 'failure', reason: string | undefined) => void;
}

export const DEFAULT_KEYSTORE_OPTIONS: Omit<KeyStoreOptions, 'onWarn' | 'onFetch'> = {
  refreshMs: 5 * 60_000,
  maxStaleMs: 24 * 3600_000,
  unknownKidCooldownMs: 30_000,
  maxBodyBytes: 512 * 1024,
  allowLinkLocal: false,
  verifyTls: true,
  caFile: undefined,
  allowStartWithoutKeys: false,
  now: Date.now,
};

type RemoteSource = Exclude<KeySource, { kind: 'inline' }>;

interface Entry {
  readonly key: string;
  source: RemoteSource;
  set: KeySet | undefined;
  lastSuccess: number;
  attempted: boolean;
  lastError: string | undefined;
  inflight: Promise<void> | undefined;
  failures: number;
  lastUnknownKid: number;
  timer: NodeJS.Timeout | undefined;
  /** Last time a failure was logged (warnings are rate-limited: one per URI per minute). */
  lastWarned: number;
  /** Failures not logged since the last warning. */
  suppressed: number;
}

/** One failure warning per key set per this long (security.md §3.6: log flooding is a DoS). */
const WARN_INTERVAL_MS = 60_000;

/** Status of one remote key set, for /readyz and /metrics. */
export interface KeySetStatus {
  readonly source: string;
  readonly keys: number;
  readonly ageSeconds: number | undefined;
  readonly lastError: string | undefined;
}

let generationCounter = 0;

/**
 * Key resolver for every provider's key source, shared across snapshots (keyed by URI, so a reload keeps keys).
 * Remote sets: background refresh with jitter, single-flight, stale-if-error up to `maxStaleMs`, failure backoff,
 * unknown-kid refetch at most once per cooldown. A failed or invalid set means *no keys*, never placeholder keys
 * (Istio CVE-2026-31837).
 */
export class KeyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly inline = new WeakMap<object, KeySet>();
  private closed = false;

  constructor(private readonly options: KeyStoreOptions) {}

  /** Makes the store track exactly these sources (called on every snapshot swap); starts first fetches. */
  register(sources: readonly KeySource[]): void {
    const wanted = new Set<string>();
    for (const s of sources) {
      if (s.kind === 'inline') continue;
      const key = keyOf(s);
      wanted.add(key);
      const existing = this.entries.get(key);
      if (existing !== undefined) {
        existing.source = s;
        continue;
      }
      const e: Entry = { key, source: s, set: undefined, lastSuccess: 0, attempted: false, lastError: undefined, inflight: undefined, failures: 0, lastUnknownKid: -Infinity, timer: undefined, lastWarned: -Infinity, suppressed: 0 };
      this.entries.set(key, e);
      void this.refresh(e);
    }
    for (const [key, e] of this.entries) {
      if (!wanted.has(key)) {
        clearTimeout(e.timer);
        this.entries.delete(key);
      }
    }
  }

  /** Keys available right now without waiting (hot path), or undefined. */
  peek(source: KeySource): KeySet | undefined {
    if (source.kind === 'inline') return this.inlineSet(source);
    const e = this.entries.get(keyOf(source));
    return e === undefined ? undefined : this.usable(e);
  }

  /** Keys for a source, waiting for an in-flight first fetch at most until `deadline` (epoch ms). */
  async get(source: KeySource, deadline: number): Promise<KeySet | undefined> {
    if (source.kind === 'inline') return this.inlineSet(source);
    let e = this.entries.get(keyOf(source));
    if (e === undefined) {
      this.register([...this.allSources(), source]);
      e = this.entries.get(keyOf(source));
      if (e === undefined) return undefined;
    }
    const now = this.usable(e);
    if (now !== undefined) return now;
    // A request may trigger a fetch of a set it lacks, at most once per cooldown (the unknown-kid window): otherwise
    // every token hits a failing endpoint (security.md §0.8, §2.2). Background backoff retries in between.
    const t = this.options.now();
    if (e.inflight === undefined && t - e.lastUnknownKid >= this.options.unknownKidCooldownMs) {
      e.lastUnknownKid = t;
      void this.refresh(e);
    }
    await waitUntil(e.inflight, deadline, this.options.now);
    return this.usable(e);
  }

  /**
   * A token named a kid the set lacks: refetch at once, but at most once per cooldown per URI, counted from the
   * previous unknown-kid attempt whether it succeeded or not (security.md §2.2). Returns the keys after it.
   */
  async refreshForUnknownKid(source: KeySource, deadline: number): Promise<KeySet | undefined> {
    if (source.kind === 'inline') return undefined;
    const e = this.entries.get(keyOf(source));
    if (e === undefined) return undefined;
    const now = this.options.now();
    if (e.inflight === undefined) {
      if (now - e.lastUnknownKid < this.options.unknownKidCooldownMs) return undefined;
      e.lastUnknownKid = now;
      void this.refresh(e);
    }
    await waitUntil(e.inflight, deadline, this.options.now);
    return this.usable(e);
  }

  /** true once every remote set has been fetched successfully once (or attempted, with allowStartWithoutKeys). */
  ready(): boolean {
    for (const e of this.entries.values()) {
      if (this.options.allowStartWithoutKeys ? !e.attempted : e.lastSuccess === 0) return false;
    }
    return true;
  }

  /** Resolves when ready() or after `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<boolean> {
    const until = this.options.now() + timeoutMs;
    while (!this.ready() && this.options.now() < until && !this.closed) await sleep(25);
    return this.ready();
  }

  status(): KeySetStatus[] {
    const now = this.options.now();
    return [...this.entries.values()].map((e) => ({
      source: redactUri(e.key),
      keys: this.usable(e)?.keys.length ?? 0,
      ageSeconds: e.lastSuccess === 0 ? undefined : Math.round((now - e.lastSuccess) / 1000),
      lastError: e.lastError,
    }));
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }

  private allSources(): RemoteSource[] {
    return [...this.entries.values()].map((e) => e.source);
  }

  private inlineSet(source: Extract<KeySource, { kind: 'inline' }>): KeySet {
    let set = this.inline.get(source);
    if (set === undefined) {
      set = { generation: ++generationCounter, keys: source.keys };
      this.inline.set(source, set);
    }
    return set;
  }

  /** The entry's keys unless older than the stale limit (then they are dropped: tokens get 401). */
  private usable(e: Entry): KeySet | undefined {
    if (e.set === undefined) return undefined;
    if (this.options.now() - e.lastSuccess > this.options.maxStaleMs) return undefined;
    return e.set;
  }

  /** One fetch per entry at a time; everyone waits on the same promise. */
  private refresh(e: Entry): Promise<void> {
    if (e.inflight !== undefined) return e.inflight;
    clearTimeout(e.timer);
    const p = this.fetchEntry(e).finally(() => {
      e.inflight = undefined;
      this.schedule(e);
    });
    e.inflight = p;
    return p;
  }

  private async fetchEntry(e: Entry): Promise<void> {
    const s = e.source;
    const rules: FetchRules = {
      totalTimeoutMs: s.timeoutMs,
      connectTimeoutMs: s.kind === 'remote' ? (s.connectTimeoutMs ?? s.timeoutMs) : s.timeoutMs,
      maxBodyBytes: this.options.maxBodyBytes,
      verifyTls: s.kind === 'remote' && s.tls !== undefined ? s.tls.verify : this.options.verifyTls,
      caFile: s.kind === 'remote' && s.tls?.caFile !== undefined ? s.tls.caFile : this.options.caFile,
      allowLinkLocal: this.options.allowLinkLocal,
    };
    try {
      const uri = s.kind === 'remote' ? s.uri : await discoverJwksUri(s.issuer, rules);
      const checked = checkJwks(await fetchJson(uri, rules), true);
      for (const w of checked.warnings) this.options.onWarn({ jwksUri: redactUri(e.key) }, w);
      if (checked.error !== undefined) throw new Error(checked.error);
      const same = e.set !== undefined && JSON.stringify(e.set.keys) === JSON.stringify(checked.keys);
      if (!same) e.set = { generation: ++generationCounter, keys: checked.keys };
      e.lastSuccess = this.options.now();
      e.failures = 0;
      e.lastError = undefined;
      this.options.onFetch(e.key, 'success', undefined);
    } catch (err) {
      e.failures += 1;
      e.lastError = err instanceof Error ? err.message : String(err);
      this.options.onFetch(e.key, 'failure', e.lastError);
      const now = this.options.now();
      if (now - e.lastWarned >= WARN_INTERVAL_MS) {
        this.options.onWarn({ jwksUri: redactUri(e.key), error: e.lastError, stale: e.set !== undefined, failures: e.failures, suppressed: e.suppressed }, 'jwks fetch failed');
        e.lastWarned = now;
        e.suppressed = 0;
      } else e.suppressed += 1;
    } finally {
      e.attempted = true;
    }
  }

  /** Next background refresh: the interval ±10 % on success; 1 s doubling to 60 s (full jitter) on failure. */
  private schedule(e: Entry): void {
    if (this.closed || !this.entries.has(e.key)) return;
    const s = e.source;
    const base = s.kind === 'remote' && s.refreshMs !== undefined ? s.refreshMs : this.options.refreshMs;
    const delay = e.failures === 0 ? base * (0.9 + Math.random() * 0.2) : Math.random() * Math.min(60_000, 1000 * 2 ** (e.failures - 1));
    e.timer = setTimeout(() => void this.refresh(e), Math.max(delay, 50));
    e.timer.unref();
  }
}

/** OIDC Discovery 1.0 §4: `<issuer without trailing />/.well-known/openid-configuration`, issuer must match. */
async function discoverJwksUri(issuer: string, rules: FetchRules): Promise<string> {
  const base = issuer.endsWith('/') ? issuer.slice(0, -1) : issuer;
  const doc = await fetchJson(`${base}/.well-known/openid-configuration`, rules);
  if (doc === null || typeof doc !== 'object') throw new Error('discovery document is not a JSON object');
  const rec = doc as Record<string, unknown>;
  if (rec['issuer'] !== issuer) throw new Error('discovery document "issuer" differs from the configured issuer');
  const uri = rec['jwks_uri'];
  if (typeof uri !== 'string' || !/^https?:\/\//.test(uri)) throw new Error('discovery document has no http(s) "jwks_uri"');
  return uri;
}

function keyOf(s: RemoteSource): string {
  return s.kind === 'remote' ? s.uri : `discovery:${s.issuer}`;
}

/** URIs without userinfo, for logs and status. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/[^/@]*@/, '//');
}

async function waitUntil(p: Promise<void> | undefined, deadline: number, now: () => number): Promise<void> {
  if (p === undefined) return;
  const left = deadline - now();
  if (left <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
  clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
