import { isUtf8 } from 'node:buffer';
import type { Peer, RequestAttributes } from '../model/request.js';

/**
 * CheckRequest (the plain object proto-loader decodes with `keepCase: true`) → RequestAttributes.
 *
 * The input is `unknown`: any field may be missing or of an odd type (an Envoy version we don't know, a fuzzer).
 * Returns undefined when `attributes.request.http` is absent, so the service can answer 400 `malformed_request`.
 * Kept to plain loops over the decoded object: this runs on every request.
 */
export function toRequestAttributes(checkRequest: unknown): RequestAttributes | undefined {
  const attributes = recordOf(recordOf(checkRequest)?.['attributes']);
  const http = recordOf(recordOf(attributes?.['request'])?.['http']);
  if (attributes === undefined || http === undefined) return undefined;

  const headers = new Map<string, string[]>();
  const pseudo = new Map<string, string>();
  // attribute_context.proto: `headers` is set unless encode_raw_headers is true, then `header_map` is. Read both:
  // a header we skipped could hide a token (and a second copy of one must count as a second token).
  const merged = recordOf(http['headers']);
  if (merged !== undefined) {
    for (const name of Object.keys(merged)) {
      const value = merged[name];
      if (typeof value === 'string') addHeader(headers, pseudo, name, value);
    }
  }
  const raw = recordOf(http['header_map'])?.['headers'];
  if (Array.isArray(raw)) {
    for (const entry of raw as unknown[]) {
      const h = recordOf(entry);
      const name = h?.['key'];
      if (h === undefined || typeof name !== 'string') continue;
      addHeader(headers, pseudo, name, headerValueOf(h));
    }
  }

  const requestId = stringOf(http['id']) || (headers.get('x-request-id')?.[0] ?? '');
  return {
    // Pseudo-headers only fill in fields Envoy left empty; they never override what Envoy reported.
    method: stringOf(http['method']) || (pseudo.get(':method') ?? ''),
    scheme: stringOf(http['scheme']) || (pseudo.get(':scheme') ?? ''),
    host: stringOf(http['host']) || (pseudo.get(':authority') ?? ''),
    path: stringOf(http['path']) || (pseudo.get(':path') ?? ''),
    headers,
    source: peerOf(attributes['source']),
    destination: peerOf(attributes['destination']),
    contextExtensions: stringMapOf(attributes['context_extensions']),
    // Echoed in deny bodies and logs: bounded so a client-chosen x-request-id cannot inflate either.
    requestId: requestId.length > MAX_REQUEST_ID ? requestId.slice(0, MAX_REQUEST_ID) : requestId,
    sni: stringOf(recordOf(attributes['tls_session'])?.['sni']),
  };
}

/** Longest request id kept (characters). */
export const MAX_REQUEST_ID = 128;

const EMPTY_PEER: Peer = Object.freeze({ address: '', port: 0, principal: '' });

function addHeader(headers: Map<string, string[]>, pseudo: Map<string, string>, rawName: string, value: string): void {
  const name = asciiLower(rawName);
  if (name.startsWith(':')) {
    if (!pseudo.has(name)) pseudo.set(name, value);
    return;
  }
  const values = headers.get(name);
  if (values === undefined) headers.set(name, [value]);
  else values.push(value);
}

/** `raw_value` bytes (encode_raw_headers) win over `value`; UTF-8 when the bytes are valid UTF-8, else Latin-1. */
function headerValueOf(h: Record<string, unknown>): string {
  const bytes = h['raw_value'];
  if (bytes instanceof Uint8Array && bytes.length > 0) {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    // RFC 9110 §5.5: field values are octets; obs-text (0x80-0xFF) is historically Latin-1. Valid UTF-8 is read
    // as such so values compare equal to what Envoy puts in the merged `headers` map.
    return buf.toString(isUtf8(buf) ? 'utf8' : 'latin1');
  }
  return stringOf(h['value']);
}

function peerOf(value: unknown): Peer {
  const peer = recordOf(value);
  if (peer === undefined) return EMPTY_PEER;
  const socket = recordOf(recordOf(peer['address'])?.['socket_address']);
  const port = socket?.['port_value'];
  return {
    address: stringOf(socket?.['address']),
    port: typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535 ? port : 0,
    principal: stringOf(peer['principal']),
  };
}

function stringMapOf(value: unknown): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  const rec = recordOf(value);
  if (rec === undefined) return out;
  for (const key of Object.keys(rec)) {
    const v = rec[key];
    if (typeof v === 'string') out.set(key, v);
  }
  return out;
}

/** Header names are ASCII tokens: fold A-Z only, never Unicode (`\u212A`.toLowerCase() is `k`). */
function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

function recordOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
