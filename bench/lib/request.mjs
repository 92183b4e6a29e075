// A CheckRequest as an Istio ingress gateway sends it (semantics.md §2.8, §3.3): pseudo-headers and the usual
// browser/proxy headers in `headers`, the connection's peer identities, no context_extensions.

/** 36 characters, the length of a UUID: overwritten per request in the serialized bytes (see load-generator.mjs). */
export const REQUEST_ID_PLACEHOLDER = 'RRRRRRRR-RRRR-RRRR-RRRR-RRRRRRRRRRRR';

export const HOST = 'shop.bench.example';
export const SOURCE_PRINCIPAL = 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';
export const DESTINATION_PRINCIPAL = 'spiffe://cluster.local/ns/shop/sa/productpage';

/**
 * Builds one CheckRequest (proto-loader object form, keepCase).
 * @param {{ token?: string, method?: string, path?: string }} options
 */
export function buildCheckRequest({ token, method = 'GET', path = '/api/v1/products/42?expand=reviews' } = {}) {
  /** @type {Record<string, string>} */
  const headers = {
    ':authority': HOST,
    ':method': method,
    ':path': path,
    ':scheme': 'https',
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    accept: 'application/json, text/plain, */*',
    'accept-encoding': 'gzip, deflate, br',
    'accept-language': 'en-GB,en;q=0.9,de;q=0.8',
    cookie: 'session=3f9a1c2e7b5d4a8f9e0c1b2a3d4e5f60; theme=dark; _ga=GA1.2.1234567890.1700000000',
    'x-forwarded-for': '203.0.113.17, 10.0.3.25',
    'x-forwarded-proto': 'https',
    'x-request-id': REQUEST_ID_PLACEHOLDER,
    'x-envoy-attempt-count': '1',
    'x-envoy-external-address': '203.0.113.17',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'x-forwarded-client-cert':
      'By=spiffe://cluster.local/ns/shop/sa/productpage;Hash=8d2b1f0c7e6a5d4c3b2a19080706050403020100ffeeddccbbaa998877665544;Subject="";URI=spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account',
  };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return {
    attributes: {
      source: {
        address: { socket_address: { address: '10.0.3.25', port_value: 51234 } },
        principal: SOURCE_PRINCIPAL,
      },
      destination: {
        address: { socket_address: { address: '10.0.7.12', port_value: 9080 } },
        principal: DESTINATION_PRINCIPAL,
      },
      request: {
        time: { seconds: Math.floor(Date.now() / 1000), nanos: 0 },
        http: {
          id: '1234567890123456789',
          method,
          headers,
          path,
          host: HOST,
          scheme: 'https',
          protocol: 'HTTP/1.1',
          size: 0,
        },
      },
      metadata_context: {},
    },
  };
}
