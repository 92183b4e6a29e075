/**
 * A naive Istio AuthorizationPolicy evaluator written straight from semantics.md §2.1–§2.5 (and §1.5 for request
 * principals), working on the YAML-shaped objects, with no code shared with src/. Used as the oracle of the
 * differential property test. Covers the fields the generators in `arbitraries.ts` produce.
 */

/** The request as the reference sees it (already-normalised path, no query). */
export interface RefRequest {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly sourceIp: string;
  readonly destinationPort: number;
  /** `undefined` ⇒ the request has no namespace. */
  readonly namespace: string | undefined;
}

/** A verified token, or undefined. */
export interface RefIdentity {
  readonly iss: string;
  readonly sub: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface RefPolicy {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: { readonly action?: 'ALLOW' | 'DENY' | 'AUDIT'; readonly rules?: readonly RefRule[] };
}
export interface RefRule {
  readonly from?: readonly { readonly source: Readonly<Record<string, readonly string[]>> }[];
  readonly to?: readonly { readonly operation: Readonly<Record<string, readonly string[]>> }[];
  readonly when?: readonly { readonly key: string; readonly values?: readonly string[]; readonly notValues?: readonly string[] }[];
}

/** authorization_policy.proto string match: exact, `prefix*`, `*suffix`, `*` = any non-empty value. */
function istioMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return value.length > 0;
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}

/** RFC 4343: ASCII letters only. */
function lowerAscii(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** §2.4 path templates: `{*}` one non-empty segment, `{**}` (last) anything including `/`. */
function pathMatch(pattern: string, path: string): boolean {
  if (!pattern.includes('{')) return istioMatch(pattern, path);
  const pSegs = pattern.split('/');
  const segs = path.split('/');
  for (let i = 0; i < pSegs.length; i++) {
    const p = pSegs[i];
    if (p === '{**}') return segs.length > i; // `/a/{**}` needs the slash: it matches `/a/` but not `/a`
    if (i >= segs.length) return false;
    if (p === '{*}') {
      if ((segs[i] ?? '') === '') return false;
    } else if (p !== segs[i]) return false;
  }
  return segs.length === pSegs.length;
}

/** §1.5: split at the last `/`, iss and sub matched separately; no non-empty sub ⇒ no principal. */
function principalMatch(value: string, id: RefIdentity | undefined): boolean {
  if (id === undefined || id.sub === undefined || id.sub === '') return false;
  if (value === '*') return id.iss !== '';
  const slash = value.lastIndexOf('/');
  if (slash === -1) {
    if (value.startsWith('*')) return id.sub.endsWith(value.slice(1));
    if (value.endsWith('*')) return id.iss.startsWith(value.slice(0, -1));
    return false;
  }
  return istioMatch(value.slice(0, slash), id.iss) && istioMatch(value.slice(slash + 1), id.sub);
}

function ipv4(s: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (m === null) return undefined;
  return m.slice(1).reduce((acc, p) => acc * 256 + Number(p), 0);
}

function inCidr(cidr: string, ip: string): boolean {
  const [net, bits = '32'] = cidr.split('/');
  const a = ipv4(ip);
  const n = ipv4(net ?? '');
  if (a === undefined || n === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(a / size) === Math.floor(n / size);
}

/** Claim values that can match: a string, or the strings of a list (semantics §0.9); undefined when absent. */
function claimStrings(claims: Readonly<Record<string, unknown>>, path: readonly string[]): string[] | undefined {
  let cur: unknown = claims;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  if (typeof cur === 'string') return [cur];
  if (Array.isArray(cur)) return cur.filter((x): x is string => typeof x === 'string');
  return [];
}

/** values: any matches; notValues: none matches. An absent attribute matches no value (so every notValue holds). */
function valueField(values: readonly string[] | undefined, negated: boolean, test: (v: string) => boolean): boolean {
  if (values === undefined) return true;
  const any = values.some(test);
  return negated ? !any : any;
}

function sourceMatches(s: Readonly<Record<string, readonly string[]>>, req: RefRequest, id: RefIdentity | undefined): boolean {
  return (
    valueField(s['requestPrincipals'], false, (v) => principalMatch(v, id)) &&
    valueField(s['notRequestPrincipals'], true, (v) => principalMatch(v, id)) &&
    valueField(s['ipBlocks'], false, (v) => inCidr(v, req.sourceIp)) &&
    valueField(s['notIpBlocks'], true, (v) => inCidr(v, req.sourceIp))
  );
}

function operationMatches(o: Readonly<Record<string, readonly string[]>>, req: RefRequest): boolean {
  const host = (v: string): boolean => istioMatch(lowerAscii(v), lowerAscii(req.host));
  const method = (v: string): boolean => istioMatch(v, req.method);
  const path = (v: string): boolean => pathMatch(v, req.path);
  const port = (v: string): boolean => Number(v) === req.destinationPort;
  return (
    valueField(o['hosts'], false, host) &&
    valueField(o['notHosts'], true, host) &&
    valueField(o['methods'], false, method) &&
    valueField(o['notMethods'], true, method) &&
    valueField(o['paths'], false, path) &&
    valueField(o['notPaths'], true, path) &&
    valueField(o['ports'], false, port) &&
    valueField(o['notPorts'], true, port)
  );
}

function conditionTest(key: string, req: RefRequest, id: RefIdentity | undefined): (v: string) => boolean {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header !== null) {
    const value = req.headers[lowerAscii(header[1] ?? '')];
    return (v) => value !== undefined && (v === '*' || istioMatch(v, value));
  }
  const claim = /^request\.auth\.claims\[(.+)\]$/.exec(key);
  if (claim !== null) {
    const values = id === undefined ? undefined : claimStrings(id.claims, (claim[1] ?? '').split(']['));
    return (v) => values !== undefined && values.some((s) => istioMatch(v, s));
  }
  switch (key) {
    case 'request.auth.principal':
      return (v) => principalMatch(v, id);
    case 'source.ip':
      return (v) => inCidr(v, req.sourceIp);
    case 'destination.port':
      return (v) => Number(v) === req.destinationPort;
    default:
      throw new TypeError(`reference evaluator does not know ${key}`);
  }
}

function ruleMatches(r: RefRule, req: RefRequest, id: RefIdentity | undefined): boolean {
  if (r.from !== undefined && !r.from.some((f) => sourceMatches(f.source, req, id))) return false;
  if (r.to !== undefined && !r.to.some((t) => operationMatches(t.operation, req))) return false;
  return (r.when ?? []).every((c) => {
    const test = conditionTest(c.key, req, id);
    return valueField(c.values, false, test) && valueField(c.notValues, true, test);
  });
}

/** §2.7: root namespace ⇒ every request; otherwise the request's namespace must equal the policy's. */
function applies(p: RefPolicy, req: RefRequest, rootNamespace: string): boolean {
  return p.metadata.namespace === rootNamespace || p.metadata.namespace === req.namespace;
}

/** §2.1: any matching DENY ⇒ deny; no ALLOW applies ⇒ allow; any ALLOW matches ⇒ allow; else deny. AUDIT: no effect. */
export function referenceAllows(policies: readonly RefPolicy[], req: RefRequest, id: RefIdentity | undefined, rootNamespace = 'istio-system'): boolean {
  const live = policies.filter((p) => applies(p, req, rootNamespace));
  const matches = (p: RefPolicy): boolean => (p.spec.rules ?? []).some((r) => ruleMatches(r, req, id));
  if (live.some((p) => p.spec.action === 'DENY' && matches(p))) return false;
  const allows = live.filter((p) => (p.spec.action ?? 'ALLOW') === 'ALLOW');
  if (allows.length === 0) return true;
  return allows.some(matches);
}
