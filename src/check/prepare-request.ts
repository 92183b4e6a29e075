import type { Decision } from '../model/decision.js';
import { deny } from '../model/decision.js';
import type { PreparedRequest, RequestAttributes } from '../model/request.js';
import { type PathNormalization, normalizePath, percentDecode } from './normalize-path.js';

/** RFC 9110 §5.6.2 token characters, upper-case letters only: Istio answers 400 to a lower-case method. */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Z]+$/;
const NAMESPACE_IN_PRINCIPAL = /\/ns\/([^/]+)\//;

export interface PrepareOptions {
  readonly pathNormalization: PathNormalization;
  /** Upper bound for the number of header values we look at (hostile input cap). */
  readonly maxHeaders: number;
  /** Upper bound for the summed size of header names and values (Envoy's own default budget is 60 KiB). */
  readonly maxHeaderBytes?: number;
}

/** Validates a request as HTTP and normalises what matchers look at, or returns the 400 deny. */
export function prepareRequest(req: RequestAttributes, options: PrepareOptions): PreparedRequest | Decision {
  if (!METHOD.test(req.method)) return bad('method is not an upper-case HTTP token');
  if (req.headers.size > options.maxHeaders) return bad(`more than ${options.maxHeaders} headers`);
  if (options.maxHeaderBytes !== undefined && headerBytes(req.headers, options.maxHeaderBytes) > options.maxHeaderBytes) {
    return bad(`headers larger than ${options.maxHeaderBytes} bytes`);
  }
  const target = req.path;
  const q = target.indexOf('?');
  const h = target.indexOf('#');
  const pathEnd = q === -1 ? (h === -1 ? target.length : h) : h === -1 ? q : Math.min(q, h);
  const rawPath = target.slice(0, pathEnd);
  const rawQuery = q === -1 || (h !== -1 && h < q) ? '' : target.slice(q + 1, h > q ? h : target.length);
  let path: string;
  if (rawPath === '' && req.method === 'CONNECT') path = '';
  else if (rawPath === '*' && req.method === 'OPTIONS') path = '*';
  else {
    // Envoy hands ext_authz origin-form paths; anything else cannot be matched safely (gRPC-Go CVE-2026-33186).
    if (!rawPath.startsWith('/')) return bad('path does not start with "/"');
    const n = normalizePath(rawPath, options.pathNormalization);
    if (!n.ok) return bad(n.error);
    path = n.path;
  }
  if (/[\u0000-\u001f\u007f]/.test(rawQuery)) return bad('query string holds a control character');
  if (rawQuery.includes('%00')) return bad('query string holds %00');
  return new Prepared(req, path, rawQuery);
}

/** A prepared request; query and cookies are parsed on first use (most requests need neither). */
class Prepared implements PreparedRequest {
  readonly hostLower: string;
  readonly namespace: string;
  // `source.address` is Envoy's downstream remote address (XFF-derived when the HCM trusts XFF), never a
  // client-supplied header: trusting x-forwarded-for here would let a client pick its own IP.
  readonly remoteIp: string;
  readonly isCorsPreflight: boolean;
  private parsedQuery: ReadonlyMap<string, readonly string[]> | undefined = undefined;
  private parsedCookies: ReadonlyMap<string, string> | undefined = undefined;

  constructor(
    readonly attributes: RequestAttributes,
    readonly path: string,
    readonly rawQuery: string,
  ) {
    const h = attributes.headers;
    this.hostLower = asciiLowerHost(attributes.host);
    this.namespace = attributes.contextExtensions.get('namespace') ?? NAMESPACE_IN_PRINCIPAL.exec(attributes.destination.principal)?.[1] ?? '';
    this.remoteIp = attributes.source.address;
    this.isCorsPreflight = attributes.method === 'OPTIONS' && h.has('origin') && h.has('access-control-request-method');
  }

  get query(): ReadonlyMap<string, readonly string[]> {
    return (this.parsedQuery ??= parseQuery(this.rawQuery));
  }

  get cookies(): ReadonlyMap<string, string> {
    return (this.parsedCookies ??= parseCookies(this.attributes.headers.get('cookie')));
  }
}

/** Summed length of names and values, stopping once past `limit`. */
function headerBytes(headers: ReadonlyMap<string, readonly string[]>, limit: number): number {
  let n = 0;
  for (const [name, values] of headers) {
    for (const v of values) n += name.length + v.length;
    if (n > limit) break;
  }
  return n;
}

function bad(message: string): Decision {
  return deny(400, 'malformed_request', message);
}

function asciiLowerHost(host: string): string {
  return /[A-Z]/.test(host) ? host.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : host;
}

/** `a=1&b=2&a=3` → a: [1, 3], b: [2]. Names and values percent-decoded (never throws); `+` is kept as Envoy does. */
export function parseQuery(raw: string): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, string[]>();
  if (raw === '') return out;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? '' : percentDecode(part.slice(eq + 1));
    const list = out.get(name);
    if (list === undefined) out.set(name, [value]);
    else list.push(value);
  }
  return out;
}

/** Cookie header values → name → first value (RFC 6265 §5.4 order). */
export function parseCookies(values: readonly string[] | undefined): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  if (values === undefined) return out;
  for (const header of values) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      const name = pair.slice(0, eq).trim();
      if (name !== '' && !out.has(name)) out.set(name, pair.slice(eq + 1).trim());
    }
  }
  return out;
}

/** Realm for `www-authenticate`: scheme, host and normalised path; no query (security.md §0.10). */
export function realmOf(req: PreparedRequest): string {
  const scheme = req.attributes.scheme === '' ? 'http' : req.attributes.scheme;
  return `${scheme}://${req.attributes.host}${req.path}`;
}
