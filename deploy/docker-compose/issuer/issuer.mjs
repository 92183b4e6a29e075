// Demo token issuer for the docker-compose walkthrough. NOT FOR PRODUCTION: anyone who can reach it gets a
// token for any subject. Plain Node + `jose` (a dependency of envoy-jwt-authz).
//
// At start it generates an RSA key (RS256, 2048 bits; kid = RFC 7638 thumbprint) that lives only in memory, then
// serves:
//   GET /.well-known/openid-configuration   OIDC discovery document (issuer, jwks_uri)
//   GET /.well-known/jwks.json              the public key set
//   GET /token?sub=alice&scope=a%20b&aud=x&ttl=600
//                                           a signed token (text/plain). `sub=` (empty) leaves `sub` out, `aud`
//                                           may repeat, `ttl` is seconds (1..86400, default 3600).
//   GET /healthz                            200
//
// Environment:
//   ISSUER_HOST   address to bind            (default 127.0.0.1; the compose file sets 0.0.0.0)
//   ISSUER_PORT   port to bind, 0 = any free (default 9000)
//   ISSUER_URL    the `iss` claim and base of jwks_uri (default http://<host>:<bound port>)
// On start it prints one JSON line: {"msg":"issuer listening","url":...,"port":...,"kid":...}.
import { createServer } from 'node:http';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';

const host = process.env.ISSUER_HOST ?? '127.0.0.1';
const port = Number(process.env.ISSUER_PORT ?? '9000');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(JSON.stringify({ msg: 'invalid ISSUER_PORT', value: process.env.ISSUER_PORT }));
  process.exit(2);
}

const ALG = 'RS256';
const { privateKey, publicKey } = await generateKeyPair(ALG, { modulusLength: 2048 });
const publicJwk = await exportJWK(publicKey);
const kid = await calculateJwkThumbprint(publicJwk);
const jwks = JSON.stringify({ keys: [{ ...publicJwk, kid, alg: ALG, use: 'sig' }] });

let issuer = process.env.ISSUER_URL ?? '';

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function mint(params) {
  const ttl = params.has('ttl') ? Number(params.get('ttl')) : 3600;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400) return { status: 400, body: 'ttl must be an integer 1..86400\n' };
  const claims = {};
  const sub = params.has('sub') ? params.get('sub') : 'alice';
  if (sub !== '') claims.sub = sub;
  const scope = params.get('scope');
  if (scope !== null && scope !== '') claims.scope = scope;
  const aud = params.getAll('aud').filter((a) => a !== '');
  if (aud.length === 1) claims.aud = aud[0];
  else if (aud.length > 1) claims.aud = aud;
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .sign(privateKey);
  return { status: 200, body: `${token}\n` };
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://issuer');
  if (req.method !== 'GET') return send(res, 405, 'text/plain', 'only GET\n');
  switch (url.pathname) {
    case '/.well-known/jwks.json':
      return send(res, 200, 'application/json', jwks);
    case '/.well-known/openid-configuration':
      return send(
        res,
        200,
        'application/json',
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          id_token_signing_alg_values_supported: [ALG],
          response_types_supported: ['id_token'],
          subject_types_supported: ['public'],
        }),
      );
    case '/token':
      return void mint(url.searchParams).then(
        (r) => send(res, r.status, 'text/plain', r.body),
        () => send(res, 500, 'text/plain', 'signing failed\n'),
      );
    case '/healthz':
      return send(res, 200, 'text/plain', 'ok\n');
    default:
      return send(res, 404, 'text/plain', 'not found\n');
  }
});

server.listen(port, host, () => {
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  if (issuer === '') issuer = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  console.log(JSON.stringify({ msg: 'issuer listening', url: issuer, port: bound, kid }));
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
