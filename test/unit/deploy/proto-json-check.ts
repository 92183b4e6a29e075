/**
 * A strict proto3-JSON checker for Envoy configuration, driven by the upstream Envoy protos vendored in
 * `@grpc/grpc-js-xds/deps` (envoy-api, googleapis, xds, protoc-gen-validate).
 *
 * Envoy reads YAML by converting it to JSON and parsing that with protobuf's JSON mapping
 * (https://protobuf.dev/programming-guides/json/): field names in snake_case or lowerCamelCase, unknown fields
 * rejected, enums by name or number, Durations as `"1.5s"`, `google.protobuf.Any` as `{"@type": url, ...fields}`.
 * This walker reproduces that, resolves every `@type` to a message of the upstream protos (loading the proto
 * files of the type's package on demand), and applies the protoc-gen-validate rules Envoy enforces at load
 * (required messages and oneofs, string/number/duration/repeated bounds, defined enum values). Deprecated fields
 * and enum values are reported too: a shipped config must not depend on them.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { checkScalar, checkWellKnown, durationNanos, isWellKnown } from './proto-json-scalars.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Where the upstream protos live (the repository's node_modules). */
export const UPSTREAM_PROTO_DIRS: readonly string[] = ['envoy-api', 'googleapis', 'xds', 'protoc-gen-validate']
  .map((d) => join(REPO, 'node_modules/@grpc/grpc-js-xds/deps', d))
  // google/protobuf/{descriptor,api,type,...}.proto, which the vendored trees import but do not hold.
  .concat([join(REPO, 'node_modules/protobufjs')]);

/** One finding, at a JSON path such as `static_resources.clusters[0].connect_timeout`. */
export interface ProtoIssue {
  readonly path: string;
  readonly message: string;
}

const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** Loads proto files into one protobufjs Root and resolves types on demand (per package directory). */
export class UpstreamProtos {
  private readonly root = new protobuf.Root();
  private readonly loadedPackages = new Set<string>();

  constructor(private readonly dirs: readonly string[] = UPSTREAM_PROTO_DIRS) {
    this.root.resolvePath = (_origin, target) => this.find(target) ?? target;
  }

  /** Loads proto files given relative to the include directories. */
  load(files: readonly string[]): void {
    this.root.loadSync([...files], { keepCase: true });
    this.root.resolveAll();
  }

  /** The message type for a full name, loading `<package as dirs>/*.proto` when it is not known yet. */
  message(fullName: string): protobuf.Type | undefined {
    const found = this.lookup(fullName);
    if (found !== undefined) return found;
    const pkg = fullName.split('.').slice(0, -1).join('.');
    if (this.loadedPackages.has(pkg)) return undefined;
    this.loadedPackages.add(pkg);
    const rel = pkg.split('.').join('/');
    const files = this.dirs.flatMap((d) => {
      const dir = join(d, rel);
      return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.proto')).map((f) => `${rel}/${f}`) : [];
    });
    if (files.length === 0) return undefined;
    this.load(files);
    return this.lookup(fullName);
  }

  private lookup(fullName: string): protobuf.Type | undefined {
    const r = this.root.lookup(fullName);
    return r instanceof protobuf.Type ? r : undefined;
  }

  private find(target: string): string | undefined {
    for (const d of this.dirs) {
      const p = join(d, target);
      if (existsSync(p)) return p;
    }
    return undefined;
  }
}

/** Checks a JSON value (from YAML) against message `typeName`; returns every issue found (empty = valid). */
export function checkProtoJson(protos: UpstreamProtos, typeName: string, value: unknown): ProtoIssue[] {
  const type = protos.message(typeName);
  if (type === undefined) return [{ path: '', message: `unknown message type ${typeName}` }];
  const issues: ProtoIssue[] = [];
  walkMessage(protos, type, value, '', issues);
  return issues;
}

/** proto3 JSON name: underscores dropped, the following letter upper-cased (protobuf ToJsonName). */
export function jsonNameOf(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/_/g, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function walkMessage(protos: UpstreamProtos, type: protobuf.Type, value: unknown, path: string, out: ProtoIssue[]): void {
  const name = type.fullName.replace(/^\./, '');
  if (name === 'google.protobuf.Any') return walkAny(protos, value, path, out);
  if (isWellKnown(name)) {
    const message = checkWellKnown(name, value);
    if (message !== undefined) out.push({ path, message });
    return;
  }
  if (!isRecord(value)) {
    out.push({ path, message: `expected an object for ${name}, got ${describe(value)}` });
    return;
  }
  walkFields(protos, type, value, path, out, new Set());
}

function walkFields(
  protos: UpstreamProtos,
  type: protobuf.Type,
  value: Record<string, unknown>,
  path: string,
  out: ProtoIssue[],
  skip: ReadonlySet<string>,
): void {
  const byName = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    byName.set(f.name, f);
    byName.set(jsonNameOf(f.name), f);
  }
  const seen = new Map<string, string>();
  for (const [key, child] of Object.entries(value)) {
    if (skip.has(key)) continue;
    const field = byName.get(key);
    const here = at(path, key);
    if (field === undefined) {
      out.push({ path: here, message: `unknown field "${key}" in ${type.fullName.replace(/^\./, '')}` });
      continue;
    }
    const earlier = seen.get(field.name);
    if (earlier !== undefined) out.push({ path: here, message: `field given twice ("${earlier}" and "${key}")` });
    seen.set(field.name, key);
    if (field.options?.['deprecated'] === true) out.push({ path: here, message: `field "${field.name}" is deprecated` });
    if (child === null) {
      out.push({ path: here, message: 'null value (an empty YAML key?)' });
      continue;
    }
    walkField(protos, field, child, here, out);
  }
  checkPresence(type, seen, path, out);
}

function checkPresence(type: protobuf.Type, seen: ReadonlyMap<string, string>, path: string, out: ProtoIssue[]): void {
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((n) => seen.has(n));
    if (set.length > 1) out.push({ path, message: `oneof "${oneof.name}" has more than one field set: ${set.join(', ')}` });
    if (set.length === 0 && oneof.options?.['(validate.required)'] === true) {
      out.push({ path, message: `oneof "${oneof.name}" is required (one of ${oneof.oneof.join(', ')})` });
    }
  }
  for (const f of type.fieldsArray) {
    const rules = validateRules(f);
    // PGV rules of a oneof member only apply when that member is the one set.
    if (seen.has(f.name) || f.partOf !== null) continue;
    const required = rules?.['message']?.['required'] === true || rules?.['duration']?.['required'] === true;
    const minLen = Number(rules?.['string']?.['min_len'] ?? 0);
    const minItems = Number(rules?.['repeated']?.['min_items'] ?? rules?.['map']?.['min_pairs'] ?? 0);
    if (required) out.push({ path: at(path, f.name), message: 'required field is missing' });
    else if (minLen > 0) out.push({ path: at(path, f.name), message: `required (min_len ${minLen})` });
    else if (minItems > 0) out.push({ path: at(path, f.name), message: `required (at least ${minItems} entries)` });
  }
}

function walkField(protos: UpstreamProtos, field: protobuf.FieldBase, value: unknown, path: string, out: ProtoIssue[]): void {
  const rules = validateRules(field);
  if (field instanceof protobuf.MapField) {
    if (!isRecord(value)) return void out.push({ path, message: `expected a map (object), got ${describe(value)}` });
    const n = Object.keys(value).length;
    const minPairs = Number(rules?.['map']?.['min_pairs'] ?? 0);
    if (n < minPairs) out.push({ path, message: `needs at least ${minPairs} entries` });
    for (const [k, v] of Object.entries(value)) {
      const keyIssue = checkScalar(field.keyType, k, { mapKey: true });
      if (keyIssue !== undefined) out.push({ path: at(path, k), message: `map key: ${keyIssue}` });
      walkSingle(protos, field, v, at(path, k), out, undefined);
    }
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return void out.push({ path, message: `expected a list, got ${describe(value)}` });
    const minItems = Number(rules?.['repeated']?.['min_items'] ?? 0);
    const maxItems = rules?.['repeated']?.['max_items'];
    if (value.length < minItems) out.push({ path, message: `needs at least ${minItems} items` });
    if (maxItems !== undefined && value.length > Number(maxItems)) out.push({ path, message: `at most ${String(maxItems)} items` });
    const itemRules = rules?.['repeated']?.['items'] as Rules | undefined;
    value.forEach((v, i) => walkSingle(protos, field, v, at(path, i), out, itemRules));
    return;
  }
  walkSingle(protos, field, value, path, out, rules);
}

function walkSingle(
  protos: UpstreamProtos,
  field: protobuf.FieldBase,
  value: unknown,
  path: string,
  out: ProtoIssue[],
  rules: Rules | undefined,
): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) return checkEnum(resolved, value, path, out);
  if (resolved instanceof protobuf.Type) {
    walkMessage(protos, resolved, value, path, out);
    if (rules?.['duration'] !== undefined && typeof value === 'string') checkDurationRules(rules['duration'], value, path, out);
    return;
  }
  const message = checkScalar(field.type, value, { mapKey: false });
  if (message !== undefined) return void out.push({ path, message });
  checkScalarRules(field.type, rules, value, path, out);
}

function walkAny(protos: UpstreamProtos, value: unknown, path: string, out: ProtoIssue[]): void {
  if (!isRecord(value)) return void out.push({ path, message: `expected an Any object, got ${describe(value)}` });
  const url = value['@type'];
  if (typeof url !== 'string') return void out.push({ path, message: 'Any without "@type"' });
  if (!url.startsWith(TYPE_URL_PREFIX)) {
    return void out.push({ path: at(path, '@type'), message: `type URL must start with ${TYPE_URL_PREFIX}` });
  }
  const typeName = url.slice(TYPE_URL_PREFIX.length);
  const type = protos.message(typeName);
  if (type === undefined) return void out.push({ path: at(path, '@type'), message: `unknown type ${typeName}` });
  if (isWellKnown(typeName) || typeName === 'google.protobuf.Any') {
    // proto3 JSON: an Any holding a type with a special JSON form carries it in "value".
    const extra = Object.keys(value).filter((k) => k !== '@type' && k !== 'value');
    if (extra.length > 0) out.push({ path, message: `unexpected keys ${extra.join(', ')} in Any of ${typeName}` });
    return walkMessage(protos, type, value['value'], at(path, 'value'), out);
  }
  walkFields(protos, type, value, path, out, new Set(['@type']));
}

function checkEnum(type: protobuf.Enum, value: unknown, path: string, out: ProtoIssue[]): void {
  const values = type.values;
  let name: string | undefined;
  if (typeof value === 'string') name = Object.hasOwn(values, value) ? value : undefined;
  else if (typeof value === 'number') name = Object.keys(values).find((k) => values[k] === value);
  if (name === undefined) {
    out.push({ path, message: `${JSON.stringify(value)} is not a value of enum ${type.name} (${Object.keys(values).join(', ')})` });
    return;
  }
  if (type.valuesOptions?.[name]?.['deprecated'] === true) out.push({ path, message: `enum value ${name} is deprecated` });
}

type Rules = Record<string, Record<string, unknown> | undefined>;

function validateRules(field: protobuf.FieldBase): Rules | undefined {
  const parsed: unknown = field.parsedOptions;
  if (!Array.isArray(parsed)) return undefined;
  for (const entry of parsed) {
    if (isRecord(entry) && isRecord(entry['(validate.rules)'])) return entry['(validate.rules)'] as Rules;
  }
  return undefined;
}

function checkScalarRules(type: string, rules: Rules | undefined, value: unknown, path: string, out: ProtoIssue[]): void {
  const r = rules?.[type];
  if (r === undefined) return;
  if (type === 'string' && typeof value === 'string') {
    if (r['min_len'] !== undefined && value.length < Number(r['min_len'])) out.push({ path, message: `shorter than ${String(r['min_len'])}` });
    if (r['max_len'] !== undefined && value.length > Number(r['max_len'])) out.push({ path, message: `longer than ${String(r['max_len'])}` });
    return;
  }
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  const bound = (k: string): number | undefined => (r[k] === undefined ? undefined : Number(r[k]));
  const gt = bound('gt'), gte = bound('gte'), lt = bound('lt'), lte = bound('lte');
  if (gt !== undefined && !(n > gt)) out.push({ path, message: `must be > ${gt}` });
  if (gte !== undefined && !(n >= gte)) out.push({ path, message: `must be >= ${gte}` });
  if (lt !== undefined && !(n < lt)) out.push({ path, message: `must be < ${lt}` });
  if (lte !== undefined && !(n <= lte)) out.push({ path, message: `must be <= ${lte}` });
}

function checkDurationRules(rules: Record<string, unknown>, value: string, path: string, out: ProtoIssue[]): void {
  const n = durationNanos(value);
  if (n === undefined) return;
  const bound = (k: string): bigint | undefined => {
    const b = rules[k];
    if (!isRecord(b)) return undefined;
    return BigInt(Number(b['seconds'] ?? 0)) * 1_000_000_000n + BigInt(Number(b['nanos'] ?? 0));
  };
  const gt = bound('gt'), gte = bound('gte'), lt = bound('lt'), lte = bound('lte');
  if (gt !== undefined && !(n > gt)) out.push({ path, message: `duration must be > ${gt}ns` });
  if (gte !== undefined && !(n >= gte)) out.push({ path, message: `duration must be >= ${gte}ns` });
  if (lt !== undefined && !(n < lt)) out.push({ path, message: `duration must be < ${lt}ns` });
  if (lte !== undefined && !(n <= lte)) out.push({ path, message: `duration must be <= ${lte}ns` });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
