import type { Server } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import { type CheckDeps, check } from './check/check.js';
import { DEFAULT_KEYSTORE_OPTIONS, KeyStore } from './check/jwks.js';
import { DEFAULT_TOKEN_CACHE_OPTIONS, TokenCache } from './check/token-cache.js';
import type { ServiceConfig } from './env.js';
import { type GrpcServer, startGrpcServer } from './grpc/server.js';
import { startHttpServer } from './http-server.js';
import { createLogger } from './log.js';
import { type Metrics, createMetrics } from './metrics.js';
import type { Decision } from './model/decision.js';
import { type PolicySnapshot, providersOf } from './model/policy.js';
import type { RequestAttributes } from './model/request.js';
import { type ConfigIssue, formatIssue } from './policy/config-issue.js';
import type { CompileOptions } from './policy/dialects/types.js';
import { PolicyStore } from './policy/policy-store.js';

/** A running service. */
export interface ServiceHandle {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly store: PolicyStore;
  readonly keys: KeyStore;
  readonly metrics: Metrics;
  /** Readiness off, drain, stop. */
  close(): Promise<void>;
}

/** Thrown when the policies are invalid at start: the service never serves a partial policy set. */
export class InvalidPoliciesError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`invalid policies:\n${issues.filter((i) => i.severity === 'error').map(formatIssue).join('\n')}`);
    this.name = 'InvalidPoliciesError';
  }
}

export function compileOptionsOf(config: ServiceConfig): CompileOptions {
  return {
    rootNamespace: config.rootNamespace,
    kymaUnmatchedStatus: config.kymaUnmatchedStatus,
    defaultJwksTimeoutMs: config.jwksTimeout,
    requireExpiration: config.requireExpiration,
  };
}

/** Builds the key store, token cache and check dependencies from the configuration. */
export function createEngine(config: ServiceConfig, logger: Logger, metrics: Metrics | undefined, now: () => number = Date.now): { keys: KeyStore; cache: TokenCache | undefined; deps: CheckDeps } {
  // The shipped entry points cap the V8 heap (--max-old-space-size=256) so RSS follows the cache bounds; a cache
  // configured larger than the heap can hold would end in an out-of-memory crash instead.
  const heapMb = getHeapStatistics().heap_size_limit / 1048576;
  if (config.tokenCacheEntries > 0 && heapMb < 2 * config.tokenCacheMb + 96) {
    logger.warn({ heapLimitMb: Math.round(heapMb), tokenCacheMb: config.tokenCacheMb }, 'V8 heap limit is small for the token cache: start node with --max-old-space-size of at least 2 x token-cache-mb + 96');
  }
  if (config.jwksInsecureSkipVerify) logger.warn('JWKS certificate verification is DISABLED (--jwks-insecure-skip-verify): keys can be forged in transit');
  if (process.env['NODE_TLS_REJECT_UNAUTHORIZED'] === '0') logger.warn('NODE_TLS_REJECT_UNAUTHORIZED=0 disables TLS verification for JWKS fetches');
  const keys = new KeyStore({
    ...DEFAULT_KEYSTORE_OPTIONS,
    refreshMs: config.jwksRefresh,
    maxStaleMs: config.jwksMaxStale,
    unknownKidCooldownMs: config.jwksUnknownKidCooldown,
    maxBodyBytes: config.jwksMaxBytes,
    allowLinkLocal: config.jwksAllowLinkLocal,
    verifyTls: !config.jwksInsecureSkipVerify,
    caFile: config.jwksCaFile,
    allowStartWithoutKeys: config.allowStartWithoutKeys,
    now,
    onWarn: (data, message) => logger.warn(data, message),
    onFetch: (_uri, outcome) => metrics?.observeJwksFetch(outcome),
  });
  const cache =
    config.tokenCacheEntries === 0
      ? undefined
      : new TokenCache({ ...DEFAULT_TOKEN_CACHE_OPTIONS, maxEntries: config.tokenCacheEntries, maxBytes: config.tokenCacheMb * 1024 * 1024, maxTokenBytes: config.maxTokenBytes }, now);
  const deps: CheckDeps = { keys, cache, now, maxTokenBytes: config.maxTokenBytes, prepare: { pathNormalization: config.pathNormalization, maxHeaders: config.maxHeaders, maxHeaderBytes: config.maxHeaderBytes }, strictBearer: config.strictBearer };
  return { keys, cache, deps };
}

/** Starts the whole service: policies → keys → gRPC → HTTP. Rejects with InvalidPoliciesError on bad policies. */
export async function startService(config: ServiceConfig, logger: Logger = createLogger(config.logLevel)): Promise<ServiceHandle> {
  let keysRef: KeyStore | undefined;
  let cacheRef: TokenCache | undefined;
  let storeRef: PolicyStore | undefined;
  const metrics = createMetrics({ keys: () => keysRef, cache: () => cacheRef, store: () => storeRef });
  const { keys, cache, deps } = createEngine(config, logger, metrics);
  keysRef = keys;
  cacheRef = cache;
  const sourcesOf = (s: PolicySnapshot) => providersOf(s).map((p) => p.keys);
  const store = new PolicyStore(config.policies, compileOptionsOf(config), {
    beforeSwap: async (next) => {
      // Fetch new issuers' keys before the swap, bounded by the fetch timeout, so a reload never causes 401s.
      keys.register([...sourcesOf(next), ...(store.current() ? sourcesOf(store.current() as PolicySnapshot) : [])]);
      await keys.waitReady(config.jwksTimeout);
      keys.register(sourcesOf(next));
    },
    onReload: (result, issues, snapshot) => {
      if (result === 'unchanged') return;
      metrics.observeReload(result);
      for (const i of issues) (i.severity === 'error' ? logger.error.bind(logger) : logger.warn.bind(logger))({ file: i.file, document: i.document, path: i.path }, i.message);
      if (result === 'success') logger.info({ digest: snapshot?.digest.slice(0, 16), generation: snapshot?.generation }, 'policy snapshot swapped');
      else logger.error({ digest: snapshot?.digest.slice(0, 16) }, 'policy reload failed; last good snapshot keeps serving');
    },
  });
  storeRef = store;
  const loaded = await store.load();
  if (!loaded.ok) {
    keys.close();
    throw new InvalidPoliciesError(loaded.issues);
  }
  for (const w of loaded.warnings) logger.warn({ file: w.file, document: w.document, path: w.path }, w.message);
  const snapshot = loaded.snapshot;
  logger.info({ digest: snapshot.digest.slice(0, 16), documents: snapshot.documentCount, providers: providersOf(snapshot).length }, 'policies loaded');

  let draining = false;
  const handler = {
    decide(request: RequestAttributes, deadlineMs: number): Promise<Decision> {
      const current = store.current();
      if (current === undefined) throw new Error('no policy snapshot');
      return check(current, request, deps, deadlineMs);
    },
  };
  const ready = (): boolean => !draining && store.current() !== undefined && keys.ready();
  const grpc: GrpcServer = await startGrpcServer({
    host: config.host,
    port: config.grpcPort,
    handler,
    logger,
    statusOnError: config.statusOnError,
    readiness: ready,
    onDecision: (decision, durationMs, request) => {
      metrics.observeDecision(decision, durationMs);
      const line = { requestId: request?.requestId, decision: decision.kind, rule: decision.rule, durationMs: Math.round(durationMs * 1000) / 1000 };
      if (decision.kind === 'deny') logger.info({ ...line, status: decision.status, reason: decision.reason, method: request?.method }, 'request denied');
      else if (logger.isLevelEnabled('debug')) logger.debug({ ...line, principal: decision.principal }, 'request allowed');
    },
  });
  const http: { server: Server; port: number } = await startHttpServer(config.host, config.httpPort, {
    ready,
    registry: metrics.registry,
    readyDetail: () => {
      const s = store.current();
      return {
        draining,
        snapshot: s === undefined ? null : { digest: s.digest, generation: s.generation, builtAt: s.builtAt.toISOString(), documents: s.documentCount },
        lastReloadErrors: store.lastErrors(),
        jwks: keys.status(),
      };
    },
  });
  if (config.watch) store.watch();
  void keys.waitReady(config.readyTimeout).then((ok) => {
    if (!ok && !draining) logger.warn({ jwks: keys.status().filter((s) => s.keys === 0).map((s) => s.source) }, 'not ready: some JWKS were never fetched');
  });
  logger.info({ grpcPort: grpc.port, httpPort: http.port, host: config.host }, 'serving');
  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    store,
    keys,
    metrics,
    async close() {
      draining = true;
      grpc.setServing(false);
      store.close();
      await new Promise((r) => setTimeout(r, config.drainDelay));
      await grpc.shutdown(config.shutdownTimeout);
      await new Promise<void>((r) => http.server.close(() => r()));
      keys.close();
    },
  };
}

/** `serve`: start, then handle SIGHUP (reload) and SIGTERM/SIGINT (graceful stop; a second signal forces it). */
export async function serve(config: ServiceConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  let handle: ServiceHandle;
  try {
    handle = await startService(config, logger);
  } catch (err) {
    logger.flush();
    if (err instanceof InvalidPoliciesError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading policies');
    void handle.store.reload();
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      logger.flush();
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: draining');
    void handle.close().then(() => {
      logger.info('stopped');
      logger.flush(() => process.exit(0));
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
