// Demo upstream for the docker-compose walkthrough: answers every request with a JSON echo of what reached it,
// so you can see the headers envoy-jwt-authz added (claims) or removed (the token, when not forwarded).
// Plain Node, no dependencies. ECHO_HOST (default 127.0.0.1) and ECHO_PORT (default 8080; 0 = any free port).
import { createServer } from 'node:http';

const host = process.env.ECHO_HOST ?? '127.0.0.1';
const port = Number(process.env.ECHO_PORT ?? '8080');

// Credentials are shown as present, never echoed back.
const HIDDEN = new Set(['authorization', 'cookie', 'proxy-authorization']);

const server = createServer((req, res) => {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = HIDDEN.has(name) ? '[present]' : value;
  const body = JSON.stringify({ method: req.method, path: req.url, headers }, null, 2);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`${body}\n`);
});

server.listen(port, host, () => {
  const address = server.address();
  console.log(JSON.stringify({ msg: 'echo listening', port: typeof address === 'object' && address !== null ? address.port : port }));
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
