/**
 * The HTTP request as the proxy described it, free of any protobuf type.
 * `grpc/to-request-attributes.ts` builds it from a CheckRequest; `check/` reads it.
 */
export interface RequestAttributes {
  /** `:method` exactly as sent (never case-folded). */
  readonly method: string;
  /** `:scheme` (`http`/`https`), may be empty. */
  readonly scheme: string;
  /** `:authority` exactly as sent, port included. */
  readonly host: string;
  /** `:path`: path plus query string, undecoded (attribute_context.proto: "No decoding is performed"). */
  readonly path: string;
  /**
   * Request headers: lower-case names → every value received for that name, in order.
   * Envoy merges repeated headers with `,` in `headers`; `header_map` (encode_raw_headers) keeps them apart.
   */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  /** Connection peer (`attributes.source`). */
  readonly source: Peer;
  /** Local end of the connection (`attributes.destination`). */
  readonly destination: Peer;
  /** Route `context_extensions` from the Envoy route configuration. */
  readonly contextExtensions: ReadonlyMap<string, string>;
  /** `x-request-id` or `request.http.id`, for logs and deny bodies. */
  readonly requestId: string;
  /** `tls_session.sni` when Envoy sends it. */
  readonly sni: string;
}

/** One end of the connection. */
export interface Peer {
  /** IP address (v4 or v6) or empty when unknown. */
  readonly address: string;
  /** Port or 0 when unknown. */
  readonly port: number;
  /** SPIFFE principal (`spiffe://td/ns/x/sa/y`) or empty. */
  readonly principal: string;
}

/**
 * A request after validation and normalisation (`check/prepare-request.ts`): what matchers see.
 */
export interface PreparedRequest {
  readonly attributes: RequestAttributes;
  /** Path without query/fragment, normalised as Istio's BASE normalisation (plus our stricter extras). */
  readonly path: string;
  /** Raw query string without the leading `?` (may be empty). */
  readonly rawQuery: string;
  /** Query parameters: name → decoded values, in order. */
  readonly query: ReadonlyMap<string, readonly string[]>;
  /** Host folded to ASCII lower case (RFC 4343), port kept. */
  readonly hostLower: string;
  /** Namespace the request is for: context_extensions.namespace, else `ns/<ns>` of destination.principal. */
  readonly namespace: string;
  /** Cookies parsed from the `cookie` header: name → first value. */
  readonly cookies: ReadonlyMap<string, string>;
  /** Remote client IP: first `x-forwarded-for` entry, else `x-envoy-external-address`, else the peer address. */
  readonly remoteIp: string;
  /** CORS preflight: OPTIONS with `origin` and `access-control-request-method`. */
  readonly isCorsPreflight: boolean;
}
