import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KeyStore } from './check/jwks.js';
import type { TokenCache } from './check/token-cache.js';
import type { Decision } from './model/decision.js';
import type { PolicyStore } from './policy/policy-store.js';

/** Prometheus metrics. Labels are only fixed enums and configured names, never request data (security.md §3.6). */
export interface Metrics {
  readonly registry: Registry;
  observeDecision(decision: Decision, durationMs: number): void;
  observeJwksFetch(outcome: 'success' | 'failure'): void;
  observeReload(result: 'success' | 'failure'): void;
}

export function createMetrics(sources: { keys: () => KeyStore | undefined; cache: () => TokenCache | undefined; store: () => PolicyStore | undefined }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'authz_process_' });
  const decisions = new Counter({
    name: 'authz_decisions_total',
    help: 'Check decisions by result and reason',
    labelNames: ['decision', 'reason', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'authz_check_duration_seconds',
    help: 'Time to decide one Check',
    labelNames: ['decision'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const internalErrors = new Counter({ name: 'authz_internal_errors_total', help: 'Checks answered with status-on-error after a fault', registers: [registry] });
  const fetches = new Counter({ name: 'authz_jwks_fetches_total', help: 'JWKS fetches by outcome', labelNames: ['outcome'] as const, registers: [registry] });
  const reloads = new Counter({ name: 'authz_policy_reloads_total', help: 'Policy reloads by result', labelNames: ['result'] as const, registers: [registry] });
  new Gauge({
    name: 'authz_jwks_age_seconds',
    help: 'Age of each remote key set since its last successful fetch',
    labelNames: ['jwks'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources.keys()?.status() ?? []) if (s.ageSeconds !== undefined) this.set({ jwks: s.source }, s.ageSeconds);
    },
  });
  new Gauge({
    name: 'authz_jwks_keys',
    help: 'Usable keys in each remote key set',
    labelNames: ['jwks'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources.keys()?.status() ?? []) this.set({ jwks: s.source }, s.keys);
    },
  });
  new Counter({
    name: 'authz_token_cache_hits_total',
    help: 'Verified-token cache hits',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.cache()?.hits ?? 0);
    },
  });
  new Counter({
    name: 'authz_token_cache_misses_total',
    help: 'Verified-token cache misses',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.cache()?.misses ?? 0);
    },
  });
  new Gauge({
    name: 'authz_token_cache_entries',
    help: 'Entries in the verified-token cache',
    registers: [registry],
    collect() {
      this.set(sources.cache()?.size ?? 0);
    },
  });
  new Gauge({
    name: 'authz_policy_snapshot_info',
    help: 'The active policy snapshot (value 1), by digest',
    labelNames: ['digest', 'generation'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const s = sources.store()?.current();
      if (s !== undefined) this.set({ digest: s.digest.slice(0, 16), generation: String(s.generation) }, 1);
    },
  });
  new Gauge({
    name: 'authz_policy_last_reload_failed',
    help: '1 when the last policy reload failed (the previous snapshot is still serving)',
    registers: [registry],
    collect() {
      this.set((sources.store()?.lastErrors().length ?? 0) > 0 ? 1 : 0);
    },
  });
  return {
    registry,
    observeDecision(d, ms) {
      const reason = d.kind === 'allow' ? 'allowed' : d.reason;
      decisions.inc({ decision: d.kind, reason, status: d.kind === 'allow' ? '200' : String(d.status) });
      duration.observe({ decision: d.kind }, ms / 1000);
      if (reason === 'internal_error') internalErrors.inc();
    },
    observeJwksFetch: (outcome) => fetches.inc({ outcome }),
    observeReload: (result) => reloads.inc({ result }),
  };
}
