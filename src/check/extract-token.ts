import type { TokenLocation } from '../model/policy.js';
import type { PreparedRequest } from '../model/request.js';

/** A token found in a request, with where it was. */
export interface FoundToken {
  readonly token: string;
  readonly location: TokenLocation;
}

/** Characters a JWT is made of (base64url plus `.`): Envoy skips to the first of them after the prefix. */
function isJwtChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95 || c === 46;
}

/**
 * Every token value at one location (Envoy extractor.cc). Header: each value separately; the prefix is searched for
 * anywhere, case-sensitively, and a value without it holds no token (so `Authorization: bearer x` is *no* token).
 * After the prefix, leading non-JWT characters are skipped and the rest of the value is the token.
 */
export function tokensAt(req: PreparedRequest, loc: TokenLocation): string[] {
  switch (loc.kind) {
    case 'header': {
      const values = req.attributes.headers.get(loc.name);
      if (values === undefined) return [];
      const out: string[] = [];
      for (const v of values) {
        if (loc.prefix === '') {
          out.push(v);
          continue;
        }
        const at = v.indexOf(loc.prefix);
        if (at === -1) continue;
        let i = at + loc.prefix.length;
        while (i < v.length && !isJwtChar(v.charCodeAt(i))) i++;
        out.push(v.slice(i));
      }
      return out;
    }
    case 'query':
      return [...(req.query.get(loc.name) ?? [])];
    case 'cookie': {
      const v = req.cookies.get(loc.name);
      return v === undefined ? [] : [v];
    }
    default:
      return assertNever(loc);
  }
}

/** Stable key of a location, to group providers that share it. */
export function locationKey(loc: TokenLocation): string {
  return loc.kind === 'header' ? `header:${loc.name}:${loc.prefix}` : `${loc.kind}:${loc.name}`;
}

/** All tokens at the given locations, in order (Istio: every one must verify). */
export function extractAll(req: PreparedRequest, locations: readonly TokenLocation[]): FoundToken[] {
  const out: FoundToken[] = [];
  for (const location of locations) for (const token of tokensAt(req, location)) out.push({ token, location });
  return out;
}

/** The token of the first location that holds one (Airlock: "extracted from the first source that is present"). */
export function extractFirst(req: PreparedRequest, locations: readonly TokenLocation[]): FoundToken | undefined {
  for (const location of locations) {
    const tokens = tokensAt(req, location);
    const token = tokens[0];
    if (token !== undefined) return { token, location };
  }
  return undefined;
}

function assertNever(x: never): never {
  throw new TypeError(`unhandled location ${JSON.stringify(x)}`);
}
