import type { Identity } from '../model/identity.js';
import type { Attribute, CidrRange, ClaimCoercion, Predicate, StringMatcher, ValueTest } from '../model/matcher.js';
import type { PreparedRequest } from '../model/request.js';
import { parseIp } from '../model/ip.js';

/** What a predicate is evaluated against. */
export interface EvalContext {
  readonly request: PreparedRequest;
  readonly identity: Identity | undefined;
}

/** Evaluates a predicate. Pure, never throws on request data. */
export function evaluatePredicate(p: Predicate, ctx: EvalContext): boolean {
  switch (p.kind) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'all':
      for (const q of p.of) if (!evaluatePredicate(q, ctx)) return false;
      return true;
    case 'any':
      for (const q of p.of) if (evaluatePredicate(q, ctx)) return true;
      return false;
    case 'not':
      return !evaluatePredicate(p.of, ctx);
    case 'authenticated':
      return ctx.identity !== undefined;
    case 'requestPrincipal': {
      // Istio ≥ 1.21: iss and sub matched separately; no non-empty sub ⇒ no principal (semantics §1.5).
      const id = ctx.identity;
      if (id?.subject === undefined) return false;
      return matchString(p.issuer, id.issuer) && matchString(p.subject, id.subject);
    }
    case 'test':
      return runTest(p.test, valueOf(p.attribute, ctx));
    default:
      return assertNever(p);
  }
}

/** Attribute value: a string, a list (claims, repeated query parameters), or undefined when absent. */
type Value = string | readonly string[] | undefined;

function valueOf(a: Attribute, ctx: EvalContext): Value {
  const r = ctx.request;
  switch (a.kind) {
    case 'method':
      return r.attributes.method;
    case 'path':
      return r.path;
    case 'host':
      return r.attributes.host;
    case 'hostname':
      return stripPort(r.hostLower);
    case 'destinationPort':
      return r.attributes.destination.port === 0 ? undefined : String(r.attributes.destination.port);
    case 'header': {
      const v = r.attributes.headers.get(a.name);
      return v === undefined ? undefined : v.length === 1 ? v[0] : v.join(',');
    }
    case 'query':
      return r.query.get(a.name);
    case 'sourceIp':
      return nonEmpty(r.attributes.source.address);
    case 'remoteIp':
      return nonEmpty(r.remoteIp);
    case 'destinationIp':
      return nonEmpty(r.attributes.destination.address);
    case 'sourcePrincipal':
      return nonEmpty(r.attributes.source.principal);
    case 'destinationPrincipal':
      return nonEmpty(r.attributes.destination.principal);
    case 'namespace':
      return nonEmpty(r.namespace);
    case 'contextExtension':
      return r.attributes.contextExtensions.get(a.name);
    case 'sni':
      return nonEmpty(r.attributes.sni);
    case 'issuer':
      return ctx.identity?.issuer;
    case 'subject':
      return ctx.identity?.subject;
    case 'claim':
      return ctx.identity === undefined ? undefined : claimValue(ctx.identity.matchClaims, a.path, a.coercion);
    default:
      return assertNever(a);
  }
}

/** Marker for a claim that exists but can match no string test (a number under Istio rules, an object). */
const UNMATCHABLE: readonly string[] = Object.freeze([]);

/**
 * Looks a claim up by own properties only (security.md §1.3: `__proto__`, `constructor` never resolve)
 * and turns it into strings per the dialect's coercion.
 */
export function claimValue(claims: Readonly<Record<string, unknown>>, path: readonly string[], coercion: ClaimCoercion): Value {
  let cur: unknown = claims;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  if (cur === undefined) return undefined;
  if (typeof cur === 'string') return cur;
  if (Array.isArray(cur)) {
    const out: string[] = [];
    for (const e of cur) {
      const s = coerce(e, coercion);
      if (s !== undefined) out.push(s);
    }
    return out;
  }
  return coerce(cur, coercion) ?? UNMATCHABLE;
}

function coerce(v: unknown, coercion: ClaimCoercion): string | undefined {
  if (typeof v === 'string') return v;
  if (coercion === 'strings') return undefined; // Istio: numbers and booleans never match
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined; // objects and null never match
}

function runTest(t: ValueTest, v: Value): boolean {
  if (v === undefined) return false;
  switch (t.kind) {
    case 'exists':
      return true;
    case 'string':
      if (typeof v === 'string') return matchString(t.matcher, v);
      for (const e of v) if (matchString(t.matcher, e)) return true;
      return false;
    case 'cidr':
      return typeof v === 'string' && inRanges(v, t.ranges);
    case 'port':
      return typeof v === 'string' && t.ports.includes(Number(v));
    default:
      return assertNever(t);
  }
}

/** Tests one string. `ignoreCase` folds ASCII only (security.md §0.6); matcher values are pre-folded. */
export function matchString(m: StringMatcher, raw: string): boolean {
  switch (m.kind) {
    case 'nonEmpty':
      return raw.length > 0;
    case 'regex':
      return m.regex.test(raw);
    case 'exact':
      return (m.ignoreCase ? asciiFold(raw) : raw) === m.value;
    case 'prefix':
      return (m.ignoreCase ? asciiFold(raw) : raw).startsWith(m.value);
    case 'suffix':
      return (m.ignoreCase ? asciiFold(raw) : raw).endsWith(m.value);
    case 'contains':
      return (m.ignoreCase ? asciiFold(raw) : raw).includes(m.value);
    default:
      return assertNever(m);
  }
}

function asciiFold(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : s;
}

function inRanges(address: string, ranges: readonly CidrRange[]): boolean {
  const ip = parseIp(address);
  if (ip === undefined) return false;
  for (const r of ranges) {
    if (r.version !== ip.version) continue;
    const bits = r.version === 4 ? 32 : 128;
    const shift = BigInt(bits - r.prefixLength);
    if (r.prefixLength === 0 || ip.value >> shift === r.network >> shift) return true;
  }
  return false;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon !== -1 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function nonEmpty(s: string): string | undefined {
  return s === '' ? undefined : s;
}

function assertNever(x: never): never {
  throw new TypeError(`unhandled case ${JSON.stringify(x)}`);
}
