import type { Predicate } from '../../../model/matcher.js';
import { allOf, anyOf, not } from '../../../model/matcher.js';
import type { CompiledMatch, CompiledRoute, HostPattern } from './compile-route.js';

/**
 * The requests Gateway API routes to `route`: its hostnames AND the OR of its matches, minus the requests a
 * competing route (one sharing a parentRef) takes first by Gateway API precedence (HTTPRouteSpec.hostnames,
 * HTTPRouteRule.matches):
 *
 * 1. a matching non-wildcard hostname beats a wildcard one, and longer beats shorter; a route without hostnames
 *    is least specific. A more specific route only takes the requests one of its own matches selects;
 * 2. among matches for the same hostname: Exact path, longer PathPrefix, method, more headers, more query
 *    params; then the older route, then `namespace/name` in alphabetical order.
 *
 * Regex paths have implementation-specific precedence, so a RegularExpression match neither takes requests from
 * nor loses them to another route's match: such a request stays in both scopes and both policies are consulted.
 * Routes with no common parentRef never compete (they serve different Gateways/listeners).
 */
export function routeScope(route: CompiledRoute, all: readonly CompiledRoute[]): Predicate {
  const rivals = all.filter((r) => r !== route && sharesParent(r, route));
  const parts: Predicate[] = [];
  for (const host of route.hosts) {
    const hostTaken: Predicate[] = [];
    for (const r of rivals) {
      for (const q of r.hosts) {
        if (compare(q.specificity, host.specificity) > 0 && hostsOverlap(q, host)) {
          hostTaken.push(allOf([q.when, anyOf(r.matches.map((m) => m.when))]));
        }
      }
    }
    for (const m of route.matches) {
      const taken = [...hostTaken];
      for (const r of rivals) {
        if (!r.hosts.some((q) => q.text === host.text)) continue;
        for (const m2 of r.matches) if (precedes(m2, r, m, route) && !disjoint(m2, m)) taken.push(m2.when);
      }
      parts.push(allOf([host.when, m.when, not(anyOf(taken))]));
    }
  }
  return anyOf(parts);
}

function sharesParent(a: CompiledRoute, b: CompiledRoute): boolean {
  for (const p of a.parents) if (b.parents.has(p)) return true;
  return false;
}

/** Can a host match both `more` (the more specific pattern) and `less`? */
function hostsOverlap(more: HostPattern, less: HostPattern): boolean {
  if (less.text === '') return true;
  if (!less.text.startsWith('*.')) return false; // an exact name has nothing more specific that also matches
  const suffix = less.text.slice(1);
  return more.text.startsWith('*.') ? more.text.slice(1).endsWith(suffix) : more.text.endsWith(suffix);
}

/** true if `a` (of route `ra`) has precedence over `b` (of route `rb`). Regex matches are never ordered. */
function precedes(a: CompiledMatch, ra: CompiledRoute, b: CompiledMatch, rb: CompiledRoute): boolean {
  if (a.rank === undefined || b.rank === undefined) return false;
  const byMatch = compare(a.rank, b.rank);
  if (byMatch !== 0) return byMatch > 0;
  // Ties: the older route first, then alphabetical `namespace/name` (smaller order wins).
  if (ra.order[0] !== rb.order[0]) return ra.order[0] < rb.order[0];
  return ra.order[1] < rb.order[1];
}

/** Lexicographic comparison of two number tuples. */
function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A cheap, sound test that no request can satisfy both matches (different exact paths, methods, …). */
function disjoint(a: CompiledMatch, b: CompiledMatch): boolean {
  if (a.method !== undefined && b.method !== undefined && a.method !== b.method) return true;
  if (a.path.type === 'RegularExpression' || b.path.type === 'RegularExpression') return false;
  const [x, y] = [a.path, b.path];
  if (x.type === 'Exact' && y.type === 'Exact') return x.value !== y.value;
  if (x.type === 'Exact') return !underPrefix(x.value, y.value);
  if (y.type === 'Exact') return !underPrefix(y.value, x.value);
  return !underPrefix(x.value, y.value) && !underPrefix(y.value, x.value);
}

/** true if `path` (or every path below it) is matched by PathPrefix `prefix`. */
function underPrefix(path: string, prefix: string): boolean {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const p = path.endsWith('/') && path !== '/' ? path.slice(0, -1) : path;
  return base === '' || p === base || p.startsWith(`${base}/`);
}
