/**
 * proto3 JSON forms of scalar fields and of the well-known types with a special JSON mapping
 * (https://protobuf.dev/programming-guides/json/), as protobuf's JSON parser (the one Envoy uses) accepts them.
 */

const INT32 = /^-?\d+$/;
const RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

/** Checks one scalar value; returns an error message or undefined. Map keys are always JSON strings. */
export function checkScalar(type: string, value: unknown, options: { readonly mapKey: boolean }): string | undefined {
  const range = RANGES[type];
  if (range !== undefined) {
    // Numbers may be JSON numbers or decimal strings (64-bit ones usually are strings).
    let big: bigint | undefined;
    if (typeof value === 'number' && Number.isInteger(value)) big = BigInt(value);
    else if (typeof value === 'string' && INT32.test(value)) big = BigInt(value);
    if (big === undefined) return `expected an integer (${type}), got ${JSON.stringify(value)}`;
    if (big < range[0] || big > range[1]) return `${big} is out of range for ${type}`;
    return undefined;
  }
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : `expected a string, got ${JSON.stringify(value)}`;
    case 'bool':
      if (typeof value === 'boolean') return undefined;
      if (options.mapKey && (value === 'true' || value === 'false')) return undefined;
      return `expected true or false, got ${JSON.stringify(value)}`;
    case 'double':
    case 'float':
      if (typeof value === 'number') return undefined;
      if (typeof value === 'string' && (/^(NaN|-?Infinity)$/.test(value) || (value.trim() !== '' && Number.isFinite(Number(value))))) {
        return undefined;
      }
      return `expected a number, got ${JSON.stringify(value)}`;
    case 'bytes':
      return typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value) ? undefined : 'expected base64 bytes';
    default:
      return `unsupported scalar type ${type}`;
  }
}

const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};

const SPECIAL = new Set([
  'google.protobuf.Duration',
  'google.protobuf.Timestamp',
  'google.protobuf.FieldMask',
  'google.protobuf.Struct',
  'google.protobuf.Value',
  'google.protobuf.ListValue',
  'google.protobuf.Empty',
  ...Object.keys(WRAPPERS),
]);

/** true for the well-known types whose JSON form is not a plain object of fields (Any is handled apart). */
export function isWellKnown(fullName: string): boolean {
  return SPECIAL.has(fullName);
}

// proto3 JSON Duration: seconds with up to 9 fractional digits and an `s` suffix, within ±315,576,000,000 s.
const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const MAX_DURATION_SECONDS = 315_576_000_000n;

/** A Duration string in nanoseconds, or undefined when it is not a valid proto3 JSON Duration. */
export function durationNanos(text: string): bigint | undefined {
  const m = DURATION.exec(text);
  if (m === null) return undefined;
  const seconds = BigInt(m[2] ?? '0');
  if (seconds > MAX_DURATION_SECONDS) return undefined;
  const nanos = BigInt((m[3] ?? '').padEnd(9, '0'));
  const total = seconds * 1_000_000_000n + nanos;
  return m[1] === '-' ? -total : total;
}

// RFC 3339 with a `Z` or offset, as proto3 JSON Timestamp requires.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Checks a well-known type's JSON form; returns an error message or undefined. */
export function checkWellKnown(fullName: string, value: unknown): string | undefined {
  const wrapped = WRAPPERS[fullName];
  if (wrapped !== undefined) return checkScalar(wrapped, value, { mapKey: false });
  switch (fullName) {
    case 'google.protobuf.Duration':
      if (typeof value !== 'string') return `a Duration is a string such as "0.25s", got ${JSON.stringify(value)}`;
      return durationNanos(value) === undefined ? `"${value}" is not a Duration (e.g. "1s", "0.250s")` : undefined;
    case 'google.protobuf.Timestamp':
      return typeof value === 'string' && TIMESTAMP.test(value) ? undefined : 'expected an RFC 3339 timestamp';
    case 'google.protobuf.FieldMask':
      return typeof value === 'string' ? undefined : 'expected a comma-separated field mask';
    case 'google.protobuf.Struct':
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'expected an object (Struct)';
    case 'google.protobuf.ListValue':
      return Array.isArray(value) ? undefined : 'expected a list (ListValue)';
    case 'google.protobuf.Value':
      return undefined;
    case 'google.protobuf.Empty':
      return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
        ? undefined
        : 'expected {} (Empty)';
    default:
      return `unsupported well-known type ${fullName}`;
  }
}
