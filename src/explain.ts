import { check } from './check/check.js';
import type { ServiceConfig } from './env.js';
import { createLogger } from './log.js';
import { compileOptionsOf, createEngine } from './main.js';
import type { Decision, TraceEntry } from './model/decision.js';
import { providersOf } from './model/policy.js';
import type { RequestAttributes } from './model/request.js';
import { formatIssue } from './policy/config-issue.js';
import { buildSnapshot } from './policy/compile-policies.js';

export interface ExplainRequest {
  readonly method: string;
  readonly path: string;
  readonly host: string | undefined;
  readonly headers: readonly [string, string][];
  /** RFC 3339 time to decide at (tokens are checked against it). */
  readonly now: string | undefined;
  readonly sourceIp: string | undefined;
  readonly sourcePrincipal: string | undefined;
  readonly destinationPrincipal: string | undefined;
  /** `key=value` route context extensions. */
  readonly contextExtensions: readonly string[];
}

/** `--header 'Name: value'` → pairs, or an error. */
export function parseHeaderFlags(flags: readonly string[]): { headers: [string, string][] } | { error: string } {
  const headers: [string, string][] = [];
  for (const f of flags) {
    const colon = f.indexOf(':');
    if (colon <= 0) return { error: `--header "${f}" is not "Name: value"` };
    headers.push([f.slice(0, colon).trim().toLowerCase(), f.slice(colon + 1).trim()]);
  }
  return { headers };
}

/**
 * Decides one request offline with the full trace: where the token was found, how it verified, which policy and
 * rule decided. Remote JWKS are fetched as the service would. Never prints the token.
 */
export async function explain(config: ServiceConfig, req: ExplainRequest): Promise<{ result: unknown; exitCode: number }> {
  let nowMs = Date.now();
  if (req.now !== undefined) {
    nowMs = Date.parse(req.now);
    if (Number.isNaN(nowMs)) return { result: { error: `--now "${req.now}" is not an RFC 3339 time` }, exitCode: 2 };
  }
  const built = buildSnapshot(config.policies, compileOptionsOf(config));
  if (!built.ok) return { result: { error: 'invalid policies', issues: built.issues.map(formatIssue) }, exitCode: 1 };
  const logger = createLogger('silent');
  const fixed = nowMs;
  // Key fetches run on the real clock (timeouts, staleness); only token times are judged at --now.
  const { keys, deps } = createEngine({ ...config, tokenCacheEntries: 0 }, logger, undefined);
  keys.register(providersOf(built.snapshot).map((p) => p.keys));
  const headers = new Map<string, string[]>();
  for (const [k, v] of req.headers) headers.set(k, [...(headers.get(k) ?? []), v]);
  const host = req.host ?? headers.get('host')?.[0] ?? 'localhost';
  const contextExtensions = new Map<string, string>();
  for (const kv of req.contextExtensions) {
    const eq = kv.indexOf('=');
    if (eq > 0) contextExtensions.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  const attributes: RequestAttributes = {
    method: req.method,
    scheme: 'http',
    host,
    path: req.path,
    headers,
    source: { address: req.sourceIp ?? '', port: 0, principal: req.sourcePrincipal ?? '' },
    destination: { address: '', port: 0, principal: req.destinationPrincipal ?? '' },
    contextExtensions,
    requestId: 'explain',
    sni: '',
  };
  const trace: TraceEntry[] = [];
  let decision: Decision;
  try {
    await keys.waitReady(config.jwksTimeout);
    decision = await check(built.snapshot, attributes, { ...deps, now: () => fixed }, Date.now() + config.jwksTimeout, trace);
  } finally {
    keys.close();
  }
  const http = decision.kind === 'allow' ? 200 : decision.status;
  return {
    result: {
      decision: decision.kind,
      httpStatus: http,
      ...(decision.kind === 'deny' ? { reason: decision.reason, message: decision.message } : { headersToSet: decision.headersToSet, headersToRemove: decision.headersToRemove, queryParametersToRemove: decision.queryParametersToRemove }),
      rule: decision.rule ?? null,
      principal: decision.kind === 'allow' ? (decision.principal ?? null) : null,
      at: new Date(fixed).toISOString(),
      policies: { digest: built.snapshot.digest.slice(0, 16), documents: built.snapshot.documentCount, warnings: built.warnings.map(formatIssue) },
      trace,
    },
    exitCode: 0,
  };
}
