import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_ID, toRequestAttributes } from '../../../src/grpc/to-request-attributes.js';

/** A CheckRequest as proto-loader decodes it for the server (keepCase, no defaults). */
function req(http: Record<string, unknown> | undefined, rest: Record<string, unknown> = {}): unknown {
  return { attributes: { ...rest, request: http === undefined ? {} : { http } } };
}

describe('toRequestAttributes', () => {
  it('reads method, scheme, host, path, peers, principals, extensions and sni', () => {
    const attrs = toRequestAttributes(
      req(
        { id: 'r-1', method: 'POST', scheme: 'https', host: 'api.test:8443', path: '/a/b?x=1', headers: { 'x-a': '1' } },
        {
          source: { address: { socket_address: { address: '10.1.2.3', port_value: 5555 } }, principal: 'spiffe://td/ns/a/sa/b' },
          destination: { address: { socket_address: { address: 'fd00::1', port_value: 8080 } }, principal: 'spiffe://td/ns/c/sa/d' },
          context_extensions: { namespace: 'shop', tier: 'gold' },
          tls_session: { sni: 'api.test' },
        },
      ),
    );
    expect(attrs).toMatchObject({
      method: 'POST',
      scheme: 'https',
      host: 'api.test:8443',
      path: '/a/b?x=1',
      requestId: 'r-1',
      sni: 'api.test',
      source: { address: '10.1.2.3', port: 5555, principal: 'spiffe://td/ns/a/sa/b' },
      destination: { address: 'fd00::1', port: 8080, principal: 'spiffe://td/ns/c/sa/d' },
    });
    expect([...(attrs?.contextExtensions ?? [])]).toEqual([['namespace', 'shop'], ['tier', 'gold']]);
    expect([...(attrs?.headers ?? [])]).toEqual([['x-a', ['1']]]);
  });

  it.each([
    { name: 'no request at all', input: undefined },
    { name: 'a string', input: 'garbage' },
    { name: 'no attributes', input: {} },
    { name: 'attributes without request', input: { attributes: {} } },
    { name: 'request without http', input: req(undefined) },
    { name: 'http that is not an object', input: { attributes: { request: { http: 'x' } } } },
    { name: 'http that is an array', input: { attributes: { request: { http: [] } } } },
  ])('is undefined for $name (answered 400 by the service)', ({ input }) => {
    expect(toRequestAttributes(input)).toBeUndefined();
  });

  it('represents an empty http message with empty fields, never throwing', () => {
    expect(toRequestAttributes(req({}))).toMatchObject({
      method: '',
      scheme: '',
      host: '',
      path: '',
      requestId: '',
      sni: '',
      source: { address: '', port: 0, principal: '' },
      destination: { address: '', port: 0, principal: '' },
    });
  });

  it('ignores fields of the wrong type instead of failing', () => {
    const attrs = toRequestAttributes(
      req(
        { method: 7, path: ['/x'], host: null, headers: { ok: 'v', bad: 5, list: ['a'] }, header_map: { headers: [null, 3, { key: 9 }, { value: 'x' }] } },
        { source: { address: { socket_address: { address: 1, port_value: 70000 } } }, context_extensions: { a: 1, b: 'x' }, tls_session: 'sni' },
      ),
    );
    expect(attrs?.method).toBe('');
    expect(attrs?.path).toBe('');
    expect([...(attrs?.headers ?? [])]).toEqual([['ok', ['v']]]);
    expect(attrs?.source).toEqual({ address: '', port: 0, principal: '' });
    expect([...(attrs?.contextExtensions ?? [])]).toEqual([['b', 'x']]);
    expect(attrs?.sni).toBe('');
  });

  it('keeps pseudo-headers out of the header map and uses them only when http fields are empty', () => {
    const attrs = toRequestAttributes(
      req({ method: '', path: '', host: '', headers: { ':method': 'DELETE', ':path': '/p', ':authority': 'h.test', ':scheme': 'https', accept: '*/*' } }),
    );
    expect(attrs).toMatchObject({ method: 'DELETE', path: '/p', host: 'h.test', scheme: 'https' });
    expect([...(attrs?.headers.keys() ?? [])]).toEqual(['accept']);
  });

  it('never lets a pseudo-header override what Envoy reported', () => {
    const attrs = toRequestAttributes(req({ method: 'GET', path: '/api', host: 'a.test', headers: { ':method': 'POST', ':path': '/public', ':authority': 'b.test' } }));
    expect(attrs).toMatchObject({ method: 'GET', path: '/api', host: 'a.test' });
  });

  it('reads header_map entries in order, keeping repeated names apart, value or raw_value', () => {
    const attrs = toRequestAttributes(
      req({
        method: 'GET',
        header_map: {
          headers: [
            { key: ':path', raw_value: Buffer.from('/from-map') },
            { key: 'Authorization', raw_value: Buffer.from('Bearer a') },
            { key: 'authorization', value: 'Bearer b' },
            { key: 'x-utf8', raw_value: Buffer.from('grüße', 'utf8') },
            { key: 'x-latin1', raw_value: Buffer.from([0x67, 0x72, 0xfc, 0xdf]) },
            { key: 'x-both', value: 'v', raw_value: Buffer.from('raw') },
            { key: 'x-empty' },
          ],
        },
      }),
    );
    expect(attrs?.path).toBe('/from-map');
    expect(attrs?.headers.get('authorization')).toEqual(['Bearer a', 'Bearer b']);
    expect(attrs?.headers.get('x-utf8')).toEqual(['grüße']);
    // Not valid UTF-8 ⇒ Latin-1, byte for byte (never U+FFFD, which would merge distinct values).
    expect(attrs?.headers.get('x-latin1')).toEqual(['grüß']);
    expect(attrs?.headers.get('x-both')).toEqual(['raw']);
    expect(attrs?.headers.get('x-empty')).toEqual(['']);
  });

  it('combines the merged map and header_map when both arrive, so a second token is still seen', () => {
    const attrs = toRequestAttributes(
      req({ headers: { authorization: 'Bearer a' }, header_map: { headers: [{ key: 'authorization', value: 'Bearer b' }] } }),
    );
    expect(attrs?.headers.get('authorization')).toEqual(['Bearer a', 'Bearer b']);
  });

  it('folds header names in ASCII only', () => {
    const attrs = toRequestAttributes(req({ headers: { 'X-User': 'a', '\u212Aey': 'b' } }));
    expect([...(attrs?.headers.keys() ?? [])]).toEqual(['x-user', '\u212Aey']);
  });

  it('takes the request id from http.id, else x-request-id, bounded in length', () => {
    expect(toRequestAttributes(req({ id: 'abc', headers: { 'x-request-id': 'zzz' } }))?.requestId).toBe('abc');
    expect(toRequestAttributes(req({ headers: { 'x-request-id': 'zzz' } }))?.requestId).toBe('zzz');
    const long = 'x'.repeat(10_000);
    expect(toRequestAttributes(req({ headers: { 'x-request-id': long } }))?.requestId).toBe('x'.repeat(MAX_REQUEST_ID));
  });

  it('keeps a header named like an Object.prototype member as a plain header', () => {
    const attrs = toRequestAttributes(req({ header_map: { headers: [{ key: 'constructor', value: 'c' }, { key: '__proto__', value: 'p' }] } }));
    expect(attrs?.headers.get('constructor')).toEqual(['c']);
    expect(attrs?.headers.get('__proto__')).toEqual(['p']);
    expect(attrs?.headers.get('tostring')).toBeUndefined();
  });
});
