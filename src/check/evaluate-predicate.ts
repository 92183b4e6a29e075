import type { Identity } from '../model/identity.js';
import type { Attribute, CidrRange, ClaimCoercion, Predicate, StringMatcher, ValueTest } from '../model/matcher.js';
import type { PreparedRequest } from '../model/request.js';
import { parseIp } from '../model/ip.js';

/** What a predicate is evaluated against. */
export interface EvalContext {
  readonly request: PreparedRequest;
  readonly identity: Identity | undefined;
}

type Compiled = (ctx: EvalContext) => boolean;
const compiledPredicates = new WeakMap<Predicate, Compiled>();

/**
 * Evaluates a predicate. Pure, never throws on request data. Each (frozen) predicate is compiled once into a
 * closure tree and memoised by identity, so the Check path does no per-request dispatch over the model's shape.
 */
export function evaluatePredicate(p: Predicate, ctx: EvalContext): boolean {
  return compiled(p)(ctx);
}

function compiled(p: Predicate): Compiled {
  let f = compiledPredicates.get(p);
  if (f === undefined) {
    f = compile(p);
    compiledPredicates.set(p, f);
  }
  return f;
}

function compile(p: Predicate): Compiled {
  switch (p.kind) {
    case 'true':
      return () => true;
    case 'false':
      return () => false;
    case 'all': {
      // AND/OR have no side effects, so the cheap tests (method, path) run before claims and regexes.
      const parts = byCost(p.of).map(compiled);
      return (ctx) => {
        for (const f of parts) if (!f(ctx)) return false;
        return true;
      };
    }
    case 'any': {
      const parts = byCost(p.of).map(compiled);
      return (ctx) => {
        for (const f of parts) if (f(ctx)) return true;
        return false;
      };
    }
    case 'not': {
      const inner = compiled(p.of);
      return (ctx) => !inner(ctx);
    }
    case 'authenticated':
      return (ctx) => ctx.identity !== undefined;
    case 'requestPrincipal': {
      // Istio ≥ 1.21: iss and sub matched separately; no non-empty sub ⇒ no principal (semantics §1.5).
      const iss = stringTest(p.issuer);
      const sub = stringTest(p.subject);
      return (ctx) => {
        const id = ctx.identity;
        return id?.subject !== undefined && iss(id.issuer) && sub(id.subject);
      };
    }
    case 'test': {
      const get = getter(p.attribute);
      const test = valueTest(p.test);
      return (ctx) => test(get(ctx));
    }
    default:
      return assertNever(p);
  }
}

/** Attribute value: a string, a list (claims, repeated query parameters), or undefined when absent. */
type Value = string | readonly string[] | undefined;

/** Rough evaluation cost, to order the operands of `all`/`any`. */
function cost(p: Predicate): number {
  switch (p.kind) {
    case 'true':
    case 'false':
    case 'authenticated':
      return 0;
    case 'test':
      return p.attribute.kind === 'claim' ? 4 : p.test.kind === 'cidr' ? 3 : p.test.kind === 'string' && p.test.matcher.kind === 'regex' ? 5 : 1;
    case 'requestPrincipal':
      return 2;
    case 'not':
      return cost(p.of);
    case 'all':
    case 'any':
      return p.of.reduce((n, q) => n + cost(q), 1);
    default:
      return assertNever(p);
  }
}

function byCost(of: readonly Predicate[]): Predicate[] {
  return [...of].sort((a, b) => cost(a) - cost(b));
}

function getter(a: Attribute): (ctx: EvalContext) => Value {
  switch (a.kind) {
    case 'method':
      return (c) => c.request.attributes.method;
    case 'path':
      return (c) => c.request.path;
    case 'host':
      return (c) => c.request.attributes.host;
    case 'hostname':
      return (c) => stripPort(c.request.hostLower);
    case 'destinationPort':
      return (c) => (c.request.attributes.destination.port === 0 ? undefined : String(c.request.attributes.destination.port));
    case 'header': {
      const name = a.name;
      return (c) => {
        const v = c.request.attributes.headers.get(name);
        return v === undefined ? undefined : v.length === 1 ? v[0] : v.join(',');
      };
    }
    case 'query': {
      const name = a.name;
      return (c) => c.request.query.get(name);
    }
    case 'sourceIp':
      return (c) => nonEmpty(c.request.attributes.source.address);
    case 'remoteIp':
      return (c) => nonEmpty(c.request.remoteIp);
    case 'destinationIp':
      return (c) => nonEmpty(c.request.attributes.destination.address);
    case 'sourcePrincipal':
      return (c) => nonEmpty(c.request.attributes.source.principal);
    case 'destinationPrincipal':
      return (c) => nonEmpty(c.request.attributes.destination.principal);
    case 'namespace':
      return (c) => nonEmpty(c.request.namespace);
    case 'contextExtension': {
      const name = a.name;
      return (c) => c.request.attributes.contextExtensions.get(name);
    }
    case 'sni':
      return (c) => nonEmpty(c.request.attributes.sni);
    case 'issuer':
      return (c) => c.identity?.issuer;
    case 'subject':
      return (c) => c.identity?.subject;
    case 'claim': {
      const { path, coercion } = a;
      return (c) => (c.identity === undefined ? undefined : claimValue(c.identity.matchClaims, path, coercion));
    }
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

function valueTest(t: ValueTest): (v: Value) => boolean {
  switch (t.kind) {
    case 'exists':
      return (v) => v !== undefined;
    case 'string': {
      const m = stringTest(t.matcher);
      return (v) => {
        if (v === undefined) return false;
        if (typeof v === 'string') return m(v);
        for (const e of v) if (m(e)) return true;
        return false;
      };
    }
    case 'cidr': {
      const ranges = t.ranges;
      return (v) => typeof v === 'string' && inRanges(v, ranges);
    }
    case 'port': {
      const ports = t.ports;
      return (v) => typeof v === 'string' && ports.includes(Number(v));
    }
    default:
      return assertNever(t);
  }
}

/** A string matcher as a closure (values are pre-folded when ignoreCase). */
function stringTest(m: StringMatcher): (s: string) => boolean {
  switch (m.kind) {
    case 'nonEmpty':
      return (s) => s.length > 0;
    case 'regex':
      return (s) => m.regex.test(s);
    case 'exact': {
      const v = m.value;
      return m.ignoreCase ? (s) => asciiFold(s) === v : (s) => s === v;
    }
    case 'prefix': {
      const v = m.value;
      return m.ignoreCase ? (s) => asciiFold(s).startsWith(v) : (s) => s.startsWith(v);
    }
    case 'suffix': {
      const v = m.value;
      return m.ignoreCase ? (s) => asciiFold(s).endsWith(v) : (s) => s.endsWith(v);
    }
    case 'contains': {
      const v = m.value;
      return m.ignoreCase ? (s) => asciiFold(s).includes(v) : (s) => s.includes(v);
    }
    default:
      return assertNever(m);
  }
}

const compiledMatchers = new WeakMap<StringMatcher, (s: string) => boolean>();

/** Tests one string. `ignoreCase` folds ASCII only (security.md §0.6); matcher values are pre-folded. */
export function matchString(m: StringMatcher, raw: string): boolean {
  let f = compiledMatchers.get(m);
  if (f === undefined) {
    f = stringTest(m);
    compiledMatchers.set(m, f);
  }
  return f(raw);
}

function asciiFold(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : s;
}

/** Parsed peer addresses: the same few proxies and clients repeat; bounded, cleared when full. */
const ipCache = new Map<string, ReturnType<typeof parseIp> | null>();

function inRanges(address: string, ranges: readonly CidrRange[]): boolean {
  let ip = ipCache.get(address);
  if (ip === undefined) {
    if (ipCache.size >= 4096) ipCache.clear();
    ip = parseIp(address) ?? null;
    ipCache.set(address, ip);
  }
  if (ip === null) return false;
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
