import pino, { type Logger } from 'pino';

/**
 * Paths pino censors whatever a log call passes. We never log tokens, claim sets or key material on purpose;
 * this list catches accidents (a header object, a jose error's payload).
 */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  'cookie',
  'token',
  'jwt',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  '*.authorization',
  '*.cookie',
  '*.token',
  'err.payload',
  'err.cause.payload',
  'payload',
  'claims',
  'jwks',
];

/** Builds the root logger: JSON lines to stdout, asynchronous so logging never blocks a Check. */
export function createLogger(level: string, destination: NodeJS.WritableStream | undefined = undefined): Logger {
  const options = {
    level,
    base: { service: 'envoy-jwt-authz' },
    redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (destination !== undefined) return pino(options, destination);
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
