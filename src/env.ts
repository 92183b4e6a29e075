import { z } from 'zod';

/**
 * Service configuration: command-line flags, each with an environment variable `AUTHZ_<FLAG_IN_UPPER_SNAKE>`
 * (flags win). Validated once, then frozen.
 */

const duration = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'use a duration like 250ms, 5s, 5m, 24h')
  .transform((s) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
    const n = Number(m?.[1]);
    const unit = m?.[2] ?? 'ms';
    return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as Record<string, number>)[unit]!;
  });
const port = z.coerce.number().int().min(0).max(65535);
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);
const positiveInt = z.coerce.number().int().positive();

/** Every flag: name, default, help text. The README's flag table is generated from the same list by `--help`. */
export const FLAGS = {
  policies: { schema: z.string().min(1), default: undefined, help: 'policy file or directory (required)' },
  'grpc-port': { schema: port, default: '9191', help: 'gRPC port (ext_authz + health)' },
  'http-port': { schema: port, default: '8181', help: 'HTTP port for /healthz, /readyz, /metrics' },
  host: { schema: z.string().min(1), default: '0.0.0.0', help: 'address to bind' },
  'root-namespace': { schema: z.string().min(1), default: 'istio-system', help: 'Istio root namespace (mesh-wide policies)' },
  'log-level': { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', help: 'log level' },
  'status-on-error': { schema: z.coerce.number().pipe(z.union([z.literal(401), z.literal(403), z.literal(404), z.literal(400)])), default: '403', help: 'HTTP status for internal faults (Envoy status_on_error)' },
  'path-normalization': { schema: z.enum(['BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']), default: 'BASE', help: 'path normalisation before matching (Istio meshConfig pathNormalization)' },
  'max-token-bytes': { schema: positiveInt, default: '8192', help: 'longer tokens are refused with 401' },
  'max-headers': { schema: positiveInt, default: '512', help: 'requests with more headers get 400' },
  'max-header-bytes': { schema: positiveInt, default: '98304', help: 'requests whose header names and values add up to more get 400' },
  'jwks-timeout': { schema: duration, default: '5s', help: 'default JWKS fetch timeout (rule timeout wins)' },
  'jwks-refresh': { schema: duration, default: '5m', help: 'background JWKS refresh interval (±10% jitter)' },
  'jwks-max-stale': { schema: duration, default: '24h', help: 'keep serving last good keys this long when refreshes fail' },
  'jwks-unknown-kid-cooldown': { schema: duration, default: '30s', help: 'at most one unknown-kid refetch per JWKS URI per this time' },
  'jwks-max-bytes': { schema: positiveInt, default: '524288', help: 'largest JWKS / discovery document accepted' },
  'jwks-ca-file': { schema: z.string().min(1).optional(), default: undefined, help: 'extra trusted CA bundle (PEM) for JWKS fetches' },
  'jwks-insecure-skip-verify': { schema: bool, default: 'false', help: 'do not verify JWKS HTTPS certificates (testing only; warns loudly)' },
  'jwks-allow-link-local': { schema: bool, default: 'false', help: 'allow JWKS URIs resolving to link-local / cloud metadata addresses' },
  'allow-start-without-keys': { schema: bool, default: 'false', help: 'become ready before every remote JWKS was fetched once' },
  'ready-timeout': { schema: duration, default: '30s', help: 'how long serve waits for the first JWKS fetches before logging a warning' },
  'strict-bearer': { schema: bool, default: 'false', help: 'answer 401 to "authorization: bearer <t>" in the wrong case (Istio: no token)' },
  'require-expiration': { schema: bool, default: 'false', help: 'refuse Istio/Kyma tokens without exp (Envoy accepts them)' },
  'kyma-unmatched-status': { schema: z.coerce.number().pipe(z.union([z.literal(403), z.literal(404)])), default: '403', help: 'status for Kyma APIRule requests matching no rule (Kyma answers 404)' },
  'token-cache-entries': { schema: z.coerce.number().int().min(0), default: '50000', help: 'verified-token cache entries (0 disables)' },
  'token-cache-mb': { schema: positiveInt, default: '64', help: 'verified-token cache size bound in MiB' },
  watch: { schema: bool, default: 'true', help: 'reload policies when files change (also on SIGHUP)' },
  'drain-delay': { schema: duration, default: '5s', help: 'after SIGTERM, time unready before the gRPC server stops' },
  'shutdown-timeout': { schema: duration, default: '20s', help: 'force-close in-flight checks after this' },
} as const;

export type FlagName = keyof typeof FLAGS;

type Out<F extends FlagName> = z.output<(typeof FLAGS)[F]['schema']>;

/** The validated configuration. */
export type ServiceConfig = { readonly [F in FlagName as CamelCase<F>]: Out<F> };

type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** `grpc-port` → `AUTHZ_GRPC_PORT`. */
export function envName(flag: string): string {
  return `AUTHZ_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Merges flags over environment over defaults, validates, freezes. Throws a readable Error on bad input. */
export function loadConfig(flags: Readonly<Record<string, string | boolean | undefined>>, env: NodeJS.ProcessEnv, required: readonly FlagName[] = ['policies']): ServiceConfig {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const raw = flags[name] ?? env[envName(name)] ?? spec.default;
    if (raw === undefined) {
      if (required.includes(name as FlagName)) problems.push(`--${name} is required`);
      continue;
    }
    const parsed = (spec.schema as z.ZodType).safeParse(raw);
    if (!parsed.success) problems.push(`--${name} ${JSON.stringify(raw)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    else out[camel(name)] = parsed.data;
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return Object.freeze(out) as ServiceConfig;
}
