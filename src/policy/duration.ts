/**
 * Go `time.ParseDuration` as Kubernetes `metav1.Duration` fields use it: a sequence of decimal numbers with a
 * unit each (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), like `300ms`, `1.5h` or `2h45m`. `0` alone is allowed.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 MICRO SIGN
  'μs': 1e-3, // U+03BC GREEK SMALL LETTER MU
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Milliseconds, or an error message. Negative durations are refused (no Airlock field accepts one). */
export function parseDuration(text: string): number | string {
  if (text === '0') return 0;
  if (text.startsWith('-')) return `duration "${text}" is negative`;
  let rest = text.startsWith('+') ? text.slice(1) : text;
  if (rest === '') return `"${text}" is not a duration (use e.g. 5s, 250ms, 1m30s)`;
  let total = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    const unit = m?.[2];
    const value = m?.[1];
    if (m === null || unit === undefined || value === undefined) return `"${text}" is not a duration (use e.g. 5s, 250ms, 1m30s)`;
    total += Number(value) * (UNIT_MS[unit] ?? Number.NaN);
    rest = rest.slice(m[0].length);
  }
  if (!Number.isFinite(total)) return `duration "${text}" is out of range`;
  return total;
}

/** A duration that must be strictly positive (timeouts): milliseconds or an error message. */
export function parsePositiveDuration(text: string): number | string {
  const ms = parseDuration(text);
  if (typeof ms === 'string') return ms;
  return ms > 0 ? ms : `duration "${text}" must be greater than 0`;
}
