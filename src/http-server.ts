import { type Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';

export interface HttpEndpoints {
  /** Ready to serve Checks (policies loaded, gRPC bound, keys fetched, not draining). */
  readonly ready: () => boolean;
  /** Detail for /readyz (digest, last reload error, key sets). Never secrets. */
  readonly readyDetail: () => Record<string, unknown>;
  readonly registry: Registry;
}

/**
 * `/healthz` (liveness: the process answers; independent of IdPs and policies so an IdP outage never becomes a
 * restart loop), `/readyz` (200 only when ready), `/metrics` (Prometheus text format).
 */
export function startHttpServer(host: string, port: number, endpoints: HttpEndpoints): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
    } else if (url === '/readyz') {
      const ready = endpoints.ready();
      const body = JSON.stringify({ ready, ...endpoints.readyDetail() });
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${body}\n`);
    } else if (url === '/metrics') {
      endpoints.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': endpoints.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}\n');
    }
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr !== null ? addr.port : port });
    });
  });
}
