import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Identity } from '../model/identity.js';

/** One verification result worth remembering: only successes are cached (security.md §3.6). */
export interface CachedVerification {
  readonly identity: Identity;
  /** Fingerprint of the provider configuration that verified it: a changed issuer config misses the cache. */
  readonly providerFingerprint: string;
  /** Key-set generation at verification time: a rotated-out key misses the cache. */
  readonly keyGeneration: number;
}

export interface TokenCacheOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Upper bound on an entry's life even for long-lived tokens. */
  readonly maxTtlMs: number;
  /** Tokens longer than this are not cached. */
  readonly maxTokenBytes: number;
}

export const DEFAULT_TOKEN_CACHE_OPTIONS: TokenCacheOptions = {
  maxEntries: 50_000,
  maxBytes: 64 * 1024 * 1024,
  maxTtlMs: 5 * 60_000,
  maxTokenBytes: 8 * 1024,
};

/**
 * Verified-token cache keyed by SHA-256 of the token (raw bearer tokens are not kept as keys).
 * Bounded in entries and bytes; an entry never outlives the token's `exp` + skew. Callers still re-check time,
 * provider fingerprint and key generation on every hit, so a hit decides exactly as a miss would.
 */
export class TokenCache {
  private readonly lru: LRUCache<string, CachedVerification>;
  hits = 0;
  misses = 0;

  constructor(
    private readonly options: TokenCacheOptions,
    private readonly nowMs: () => number,
  ) {
    this.lru = new LRUCache<string, CachedVerification>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // Measured (bench scenario e): ≈ 2.2 KiB of live heap per entry for a ~870-byte token; this errs above it,
      // so `maxBytes` bounds the real heap the cache holds.
      sizeCalculation: (v) => 1024 + v.identity.payloadSegment.length * 4,
      ttl: options.maxTtlMs,
      ttlAutopurge: false,
      // lru-cache's own clock must follow ours, so tests that move time see expiry.
      perf: { now: () => nowMs() },
    });
  }

  /** Cache key for a token. */
  keyOf(token: string): string | undefined {
    if (token.length > this.options.maxTokenBytes) return undefined;
    return createHash('sha256').update(token).digest('base64url');
  }

  get(key: string): CachedVerification | undefined {
    const v = this.lru.get(key);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  set(key: string, value: CachedVerification): void {
    const left = value.identity.notAfter === Infinity ? this.options.maxTtlMs : value.identity.notAfter * 1000 - this.nowMs();
    if (left <= 0) return;
    this.lru.set(key, value, { ttl: Math.min(left, this.options.maxTtlMs) });
  }

  get size(): number {
    return this.lru.size;
  }

  get calculatedSize(): number {
    return this.lru.calculatedSize;
  }

  clear(): void {
    this.lru.clear();
  }
}
