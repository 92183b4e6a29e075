/**
 * Path normalisation as Istio's default `BASE` mode (istio.io normalization page, security.md §1.5), applied again
 * here as defence in depth when the proxy in front does not normalise. Linear time, never throws.
 */

export type PathNormalization = 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

export type NormalizeResult = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly error: string };

const HEX = /^[0-9A-Fa-f]{2}$/;

/** RFC 3986 §2.3 unreserved characters: the only `%XX` BASE decodes. */
function isUnreservedCode(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    code === 0x2d || // -
    code === 0x2e || // .
    code === 0x5f || // _
    code === 0x7e // ~
  );
}

/**
 * Normalises a request path that has already been cut at `?`/`#`.
 * `%00` and raw control, space, DEL or non-ASCII characters are errors (Istio answers 400).
 */
export function normalizePath(raw: string, mode: PathNormalization = 'BASE'): NormalizeResult {
  let decoded = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return { ok: false, error: 'path holds a control, space or non-ASCII character' };
    if (c === 0x25 /* % */) {
      const hex = raw.slice(i + 1, i + 3);
      if (HEX.test(hex)) {
        const code = parseInt(hex, 16);
        if (code === 0) return { ok: false, error: 'path holds %00' };
        if (isUnreservedCode(code)) {
          decoded += String.fromCharCode(code);
          i += 2;
          continue;
        }
        if (mode === 'DECODE_AND_MERGE_SLASHES' && (code === 0x2f || code === 0x5c)) {
          decoded += '/';
          i += 2;
          continue;
        }
      }
      decoded += '%';
      continue;
    }
    // BASE: backslash becomes a slash.
    decoded += c === 0x5c ? '/' : raw[i];
  }
  if (mode !== 'BASE') decoded = decoded.replace(/\/{2,}/g, '/');
  return { ok: true, path: removeDotSegments(decoded) };
}

/**
 * RFC 3986 §5.2.4 on an absolute path, keeping empty segments (`/app//../admin` → `/app/admin`, Istio's own table).
 * [deviation] `..;x` and `.;x` count as dot segments (CVE-2026-73551 direction): Tomcat/Jetty strip `;` parameters
 * and then resolve, so treating them as literals would let `/public/..;/api` past a `/public/*` exemption.
 */
export function removeDotSegments(path: string): string {
  if (!path.startsWith('/')) return path;
  if (!path.includes('.')) return path; // fast path: nothing to resolve
  const input = path.slice(1).split('/');
  const out: string[] = [];
  for (let i = 0; i < input.length; i++) {
    const seg = input[i] ?? '';
    const last = i === input.length - 1;
    const kind = dotKind(seg);
    if (kind === 1) {
      if (last) out.push('');
    } else if (kind === 2) {
      out.pop();
      if (last) out.push('');
    } else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** 0: ordinary segment, 1: `.`, 2: `..` (with an optional `;params` tail). */
function dotKind(seg: string): 0 | 1 | 2 {
  const semi = seg.indexOf(';');
  const head = semi === -1 ? seg : seg.slice(0, semi);
  if (head === '.') return 1;
  if (head === '..') return 2;
  return 0;
}

/**
 * Decodes `%XX` sequences to UTF-8 text without throwing (`decodeURIComponent('%c0')` throws, security.md §0.5):
 * invalid escapes stay literal, invalid UTF-8 becomes U+FFFD.
 */
export function percentDecode(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && HEX.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else {
      // Non-ASCII in a query string: keep it as UTF-8.
      const cp = value.codePointAt(i) ?? c;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
