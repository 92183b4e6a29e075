import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { parseIp } from '../model/ip.js';

/** Rules for one outbound fetch of a key set or discovery document (security.md §2.2). */
export interface FetchRules {
  readonly totalTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** Verify HTTPS certificates (default true). */
  readonly verifyTls: boolean;
  /** Extra CA bundle (PEM file). */
  readonly caFile: string | undefined;
  /** Allow link-local and cloud-metadata addresses (off by default: SSRF guard). */
  readonly allowLinkLocal: boolean;
}

/** A failed fetch, with a reason safe to log (never the response body). */
export class FetchError extends Error {
  constructor(
    readonly code: 'ERR_JWKS_TIMEOUT' | 'ERR_JWKS_HTTP_STATUS' | 'ERR_JWKS_TOO_LARGE' | 'ERR_JWKS_NOT_JSON' | 'ERR_JWKS_BLOCKED_ADDRESS' | 'ERR_JWKS_NETWORK',
    message: string,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

// Link-local and cloud metadata ranges (Istio jwksBlockedIP, GHSA-fgw5-hp8f-xfhc).
const BLOCKED: readonly { version: 4 | 6; network: bigint; prefix: number }[] = [
  ['169.254.0.0', 16],
  ['100.100.100.200', 32],
  ['fe80::', 10],
  ['fd00:ec2::254', 128],
].map(([a, prefix]) => {
  const ip = parseIp(a as string);
  if (ip === undefined) throw new TypeError('bad constant');
  return { version: ip.version, network: ip.value, prefix: prefix as number };
});

/** true if the address is link-local or a cloud metadata endpoint. */
export function isBlockedAddress(address: string): boolean {
  const ip = parseIp(address);
  if (ip === undefined) return true;
  return BLOCKED.some((b) => {
    if (b.version !== ip.version) return false;
    const shift = BigInt((b.version === 4 ? 32 : 128) - b.prefix);
    return ip.value >> shift === b.network >> shift;
  });
}

/** Resolve, then refuse blocked addresses: checked on the resolved address, so DNS rebinding cannot dodge it. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 4);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isBlockedAddress(a.address));
    if (bad !== undefined) return callback(new FetchError('ERR_JWKS_BLOCKED_ADDRESS', `${hostname} resolves to blocked address ${bad.address}`), '', 4);
    if (options.all === true) return callback(null, list as unknown as string, 4);
    const first = list[0];
    if (first === undefined) return callback(new Error(`${hostname} has no address`), '', 4);
    callback(null, first.address, first.family);
  });
};

/** GETs a URL and parses its JSON body under the rules. No redirects: a 3xx is a failure. */
export function fetchJson(url: string, rules: FetchRules): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new FetchError('ERR_JWKS_NETWORK', 'invalid URL'));
      return;
    }
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!rules.allowLinkLocal && isIP(host) !== 0 && isBlockedAddress(host)) {
      reject(new FetchError('ERR_JWKS_BLOCKED_ADDRESS', `address ${host} is blocked (link-local / metadata)`));
      return;
    }
    const isHttps = u.protocol === 'https:';
    const make = isHttps ? httpsRequest : httpRequest;
    let done = false;
    const finish = (err: Error | undefined, value?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(total);
      clearTimeout(connect);
      if (err) reject(err);
      else resolve(value);
    };
    const req = make(
      u,
      {
        method: 'GET',
        headers: { accept: 'application/json, application/jwk-set+json', 'user-agent': 'envoy-jwt-authz' },
        ...(rules.allowLinkLocal ? {} : { lookup: guardedLookup }),
        ...(isHttps ? { rejectUnauthorized: rules.verifyTls, ...(rules.caFile ? { ca: readFileSync(rules.caFile) } : {}) } : {}),
        agent: false,
      },
      (res: IncomingMessage) => {
        clearTimeout(connect);
        if (res.statusCode !== 200) {
          res.resume();
          finish(new FetchError('ERR_JWKS_HTTP_STATUS', `HTTP status ${res.statusCode ?? 0}`));
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > rules.maxBodyBytes) {
            finish(new FetchError('ERR_JWKS_TOO_LARGE', `body larger than ${rules.maxBodyBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          if (done) return;
          try {
            finish(undefined, JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            finish(new FetchError('ERR_JWKS_NOT_JSON', 'body is not JSON'));
          }
        });
        res.on('error', (e) => finish(new FetchError('ERR_JWKS_NETWORK', e.message)));
      },
    );
    const total = setTimeout(() => {
      finish(new FetchError('ERR_JWKS_TIMEOUT', `no complete answer within ${rules.totalTimeoutMs} ms`));
      req.destroy();
    }, rules.totalTimeoutMs);
    const connect = setTimeout(() => {
      finish(new FetchError('ERR_JWKS_TIMEOUT', `no connection within ${rules.connectTimeoutMs} ms`));
      req.destroy();
    }, rules.connectTimeoutMs);
    req.on('socket', (socket) => {
      socket.once(isHttps ? 'secureConnect' : 'connect', () => clearTimeout(connect));
    });
    req.on('error', (e) => finish(e instanceof FetchError ? e : new FetchError('ERR_JWKS_NETWORK', e.message)));
    req.end();
  });
}
