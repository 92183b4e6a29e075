// A stand-in for `node dist/cli.js serve`, used to develop and smoke-test the harness (BENCH_SERVICE=fake) while the
// real service is not built. It reads only the RequestAuthentication jwtRules from the bench's policy directory,
// verifies tokens with jose behind a sha256-keyed LRU, and hard-codes the bench policy outcome (public paths open,
// everything else needs a valid token). Not a reference implementation of anything.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { parseAllDocuments } from 'yaml';
import { loadAuthorization, grpc } from '../lib/proto.mjs';

const { values } = parseArgs({
  args: process.argv.slice(3),
  options: {
    policies: { type: 'string' },
    'grpc-port': { type: 'string' },
    'http-port': { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'log-level': { type: 'string' },
  },
});

const rules = [];
for (const name of readdirSync(values.policies).sort()) {
  if (!name.endsWith('.yaml')) continue;
  for (const doc of parseAllDocuments(readFileSync(join(values.policies, name), 'utf8'))) {
    const body = doc.toJS();
    if (body?.kind !== 'RequestAuthentication') continue;
    for (const r of body.spec.jwtRules) {
      const keys = r.jwks !== undefined ? createLocalJWKSet(JSON.parse(r.jwks)) : createRemoteJWKSet(new URL(r.jwksUri));
      rules.push({ issuer: r.issuer, audiences: r.audiences, keys });
    }
  }
}

const cache = new LRUCache({ max: 50_000 });
const OK_PUBLIC = { status: { code: 0 } };
const deny = (http) => ({ status: { code: http === 401 ? 16 : 7 }, denied_response: { status: { code: http } } });

async function check(request) {
  const http = request.attributes?.request?.http ?? {};
  const auth = http.headers?.authorization;
  const path = (http.path ?? '/').split('?')[0];
  if (auth === undefined || !auth.startsWith('Bearer ')) {
    return path === '/productpage' || path.startsWith('/public/') ? OK_PUBLIC : deny(403);
  }
  const token = auth.slice(7);
  const key = createHash('sha256').update(token).digest('base64');
  let payload = cache.get(key);
  if (payload === undefined) {
    const iss = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}').iss;
    const rule = rules.find((r) => r.issuer === iss);
    if (rule === undefined) return deny(401);
    try {
      ({ payload } = await jwtVerify(token, rule.keys, { issuer: rule.issuer, audience: rule.audiences }));
    } catch {
      return deny(401);
    }
    cache.set(key, payload);
  }
  return { status: { code: 0 }, ok_response: { headers: [{ header: { key: 'x-jwt-sub', value: String(payload.sub) } }] } };
}

const { service } = loadAuthorization();
const server = new grpc.Server();
server.addService(service, {
  Check(call, callback) {
    check(call.request).then(
      (r) => callback(null, r),
      () => callback(null, deny(403)),
    );
  },
});
server.bindAsync(`${values.host}:${values['grpc-port']}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  createServer((req, res) => res.writeHead(req.url === '/readyz' || req.url === '/healthz' ? 200 : 404).end()).listen(
    Number(values['http-port']),
    values.host,
  );
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
process.on('SIGINT', () => server.tryShutdown(() => process.exit(0)));
