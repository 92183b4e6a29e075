import { type Server, createServer } from 'node:http';

/** What the local JWKS server answers, changeable during a test. */
export interface JwksResponse {
  status: number;
  body: string;
  /** Delay before answering, ms. */
  delayMs: number;
  headers?: Record<string, string>;
}

/** A JWKS / discovery server on 127.0.0.1 with fetch counting per path. */
export interface JwksServer {
  readonly url: string;
  /** Fetch count per path. */
  readonly fetches: Map<string, number>;
  /** Sets the response for a path (default path `/jwks.json`). */
  set(path: string, response: Partial<JwksResponse>): void;
  count(path?: string): number;
  close(): Promise<void>;
}

export async function startJwksServer(initial: Readonly<Record<string, Partial<JwksResponse>>> = {}): Promise<JwksServer> {
  const routes = new Map<string, JwksResponse>();
  const fetches = new Map<string, number>();
  const set = (path: string, r: Partial<JwksResponse>): void => {
    routes.set(path, { status: 200, body: '{"keys":[]}', delayMs: 0, ...routes.get(path), ...r });
  };
  for (const [p, r] of Object.entries(initial)) set(p, r);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    fetches.set(path, (fetches.get(path) ?? 0) + 1);
    const r = routes.get(path);
    if (r === undefined) {
      res.writeHead(404).end();
      return;
    }
    const answer = (): void => {
      if (res.destroyed) return;
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers }).end(r.body);
    };
    if (r.delayMs > 0) setTimeout(answer, r.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    fetches,
    set,
    count: (path = '/jwks.json') => fetches.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
