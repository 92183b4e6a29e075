import { pino, type Logger } from 'pino';

/** A pino logger writing JSON lines into memory, for asserting what was (and was not) logged. */
export function captureLogger(): { readonly logger: Logger; readonly lines: () => Record<string, unknown>[]; readonly text: () => string } {
  const chunks: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void chunks.push(s) });
  const text = (): string => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
