import { Client, credentials, makeClientConstructor, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadProtos } from './load-protos.js';

/** What `envoy-jwt-authz call` sends: the HTTP request Envoy would describe. */
export interface CallInput {
  readonly target: string;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly headers: readonly [string, string][];
  readonly contextExtensions: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** Sends one CheckRequest to a running server (what Envoy does) and returns the decoded CheckResponse. */
export function callCheck(input: CallInput): Promise<unknown> {
  const { authorization } = loadProtos({ keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });
  const Ctor: ServiceClientConstructor = makeClientConstructor(authorization, 'Authorization');
  const client = new Ctor(input.target, credentials.createInsecure()) as Client & Record<string, unknown>;
  const headers: Record<string, string> = { ':method': input.method, ':path': input.path, ':authority': input.host };
  for (const [k, v] of input.headers) headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
  const request = {
    attributes: {
      request: { http: { method: input.method, path: input.path, host: input.host, scheme: 'http', protocol: 'HTTP/1.1', headers } },
      context_extensions: input.contextExtensions,
    },
  };
  return new Promise((resolve, reject) => {
    const check = client['Check'] as (req: unknown, opts: { deadline: Date }, cb: (err: Error | null, res: unknown) => void) => void;
    check.call(client, request, { deadline: new Date(Date.now() + input.timeoutMs) }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res);
    });
  });
}
