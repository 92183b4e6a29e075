/**
 * The docker-compose demo without Docker: the demo issuer and echo scripts run as child processes on 127.0.0.1,
 * the built service (`node dist/cli.js serve`, as in the image) runs on the compose policies with the issuer
 * URL rewritten to the local one, and real gRPC Checks carry the context_extensions the compose Envoy route sets.
 * Expected outcomes are the seed-003 table (plus its invalid-token and no-`sub` rows, semantics §0.2 and §0.6).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestKey, mintToken } from '../helpers/tokens.js';
import { type AuthzClient, bodyOf, checkRequest, createAuthzClient, headerOf, headersToRemove, httpStatusOf } from '../helpers/upstream-client.js';
import { httpConnectionManagers, readYaml, routeFor, routesOf } from '../unit/deploy/envoy-config.js';

const COMPOSE = 'deploy/docker-compose';
const COMPOSE_ISSUER = 'http://issuer:9000';
const children: ChildProcess[] = [];

/** Spawns `node <args>` and resolves with the first stdout JSON line for which `pick` returns a value. */
function start<T>(args: string[], env: Record<string, string>, pick: (line: Record<string, unknown>) => T | undefined): Promise<{ child: ChildProcess; value: T; output: string[] }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout starting ${args.join(' ')}:\n${output.join('\n')}`)), 15_000);
    child.stderr?.on('data', (b: Buffer) => output.push(b.toString('utf8')));
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${String(code)}:\n${output.join('\n')}`)));
    if (child.stdout === null) return reject(new Error('no stdout pipe'));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      try {
        const value = pick(JSON.parse(line) as Record<string, unknown>);
        if (value !== undefined) {
          clearTimeout(timer);
          resolve({ child, value, output });
        }
      } catch {
        // not a JSON line
      }
    });
  });
}

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

afterAll(async () => {
  await Promise.all(children.map((c) => stop(c)));
});

let issuerUrl = '';
let issuerKid = '';
beforeAll(async () => {
  const issuer = await start([join(COMPOSE, 'issuer/issuer.mjs')], { ISSUER_HOST: '127.0.0.1', ISSUER_PORT: '0' }, (l) =>
    l['msg'] === 'issuer listening' ? { url: String(l['url']), kid: String(l['kid']) } : undefined,
  );
  issuerUrl = issuer.value.url;
  issuerKid = issuer.value.kid;
});

async function token(query: string): Promise<string> {
  const res = await fetch(`${issuerUrl}/token?${query}`);
  expect(res.status).toBe(200);
  return (await res.text()).trim();
}

describe('demo issuer (deploy/docker-compose/issuer/issuer.mjs)', () => {
  it('listens on the random loopback port ISSUER_PORT=0 gave it', () => {
    expect(issuerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(issuerUrl.endsWith(':0')).toBe(false);
  });

  it('publishes a discovery document pointing at its key set', async () => {
    const doc = (await (await fetch(`${issuerUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(doc['issuer']).toBe(issuerUrl);
    expect(doc['jwks_uri']).toBe(`${issuerUrl}/.well-known/jwks.json`);
  });

  it('mints RS256 tokens that verify against its JWKS, with the asked-for claims', async () => {
    const jwks = (await (await fetch(`${issuerUrl}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]?.['kid']).toBe(issuerKid);
    expect(Object.keys(jwks.keys[0] ?? {})).not.toContain('d');
    const t = await token('sub=alice&scope=read%20write&aud=a&aud=b&ttl=120');
    const { payload, protectedHeader } = await jwtVerify(t, createLocalJWKSet(jwks), { issuer: issuerUrl, algorithms: ['RS256'] });
    expect(protectedHeader.kid).toBe(issuerKid);
    expect(payload).toMatchObject({ sub: 'alice', scope: 'read write', aud: ['a', 'b'], iss: issuerUrl });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(120);
  });

  it('leaves `sub` out for `sub=` and refuses bad requests', async () => {
    expect(decodeJwt(await token('sub=')).sub).toBeUndefined();
    expect((await fetch(`${issuerUrl}/token?ttl=0`)).status).toBe(400);
    expect((await fetch(`${issuerUrl}/token`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${issuerUrl}/nope`)).status).toBe(404);
  });
});

describe('demo echo (deploy/docker-compose/echo/echo.mjs)', () => {
  it('echoes method, path and headers, but never credentials', async () => {
    const echo = await start([join(COMPOSE, 'echo/echo.mjs')], { ECHO_HOST: '127.0.0.1', ECHO_PORT: '0' }, (l) =>
      l['msg'] === 'echo listening' ? Number(l['port']) : undefined,
    );
    const res = await fetch(`http://127.0.0.1:${echo.value}/api/x?y=1`, { headers: { authorization: 'Bearer secret-value', 'x-jwt-sub': 'alice' } });
    const text = await res.text();
    expect(text).not.toContain('secret-value');
    expect(JSON.parse(text)).toMatchObject({ method: 'GET', path: '/api/x?y=1', headers: { authorization: '[present]', 'x-jwt-sub': 'alice' } });
    expect(await stop(echo.child)).toBe(0);
  });
});

describe('service on the compose policies (seed 003 through the compose gateway routes)', () => {
  const cli = 'dist/cli.js';
  const routes = routesOf(httpConnectionManagers(readYaml(join(COMPOSE, 'envoy.yaml')))[0] ?? {});
  let dir = '';
  let client: AuthzClient;
  let service: ChildProcess;
  let httpPort = 0;

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does)`);
    dir = mkdtempSync(join(tmpdir(), 'deploy-compose-'));
    for (const f of readdirSync(join(COMPOSE, 'policies'))) {
      const text = readFileSync(join(COMPOSE, 'policies', f), 'utf8');
      writeFileSync(join(dir, f), text.replaceAll(COMPOSE_ISSUER, issuerUrl));
    }
    expect(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n')).toContain(`jwksUri: ${issuerUrl}/.well-known/jwks.json`);
    // Ports picked here, not read from the log: the service's log stream is buffered, so its `serving` line
    // is not guaranteed to reach stdout soon after start.
    const grpcPort = await freePort();
    httpPort = await freePort();
    service = spawn(
      process.execPath,
      [cli, 'serve', '--policies', dir, '--grpc-port', String(grpcPort), '--http-port', String(httpPort), '--host', '127.0.0.1', '--root-namespace', 'istio-system', '--log-level', 'info', '--watch', 'false', '--drain-delay', '0s'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(service);
    const stderr: string[] = [];
    service.stderr?.on('data', (b: Buffer) => stderr.push(b.toString('utf8')));
    client = createAuthzClient(grpcPort);
    // Ready = policies active and the issuer's JWKS fetched once (what Kubernetes and compose wait for).
    const deadline = Date.now() + 10_000;
    while ((await fetch(`http://127.0.0.1:${httpPort}/readyz`).then((r) => r.status, () => 0)) !== 200) {
      if (service.exitCode !== null) throw new Error(`service exited with ${service.exitCode}: ${stderr.join('')}`);
      if (Date.now() > deadline) throw new Error(`service never became ready: ${stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    client?.close();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  async function statusFor(path: string, authorization?: string): Promise<{ status: number; sub: string | undefined; reason: unknown; removed: string[] }> {
    const route = routeFor(routes, path);
    expect(route, `an Envoy route for ${path}`).toBeDefined();
    expect(route?.authzDisabled).toBe(false);
    const resp = await client.check(
      checkRequest({
        path,
        host: 'localhost:8000',
        // A client-sent copy of the claim header must never reach the upstream as if it came from a token.
        headers: { 'x-jwt-sub': 'spoofed', ...(authorization === undefined ? {} : { authorization }) },
        contextExtensions: route?.contextExtensions ?? {},
      }),
    );
    const body = bodyOf(resp);
    return { status: httpStatusOf(resp), sub: headerOf(resp, 'x-jwt-sub'), removed: headersToRemove(resp), reason: typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['error'] : undefined };
  }

  it('answers health on its HTTP port', async () => {
    expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);
  });

  it.each([
    { name: '/productpage without a token is allowed (excluded path)', path: '/productpage', auth: 'none', expected: 200, reason: undefined },
    { name: '/api/v1/products/0 without a token is denied', path: '/api/v1/products/0', auth: 'none', expected: 403, reason: 'denied_by_rule' },
    { name: '/api/v1/products/1 without a token is denied', path: '/api/v1/products/1', auth: 'none', expected: 403, reason: 'denied_by_rule' },
    { name: '/productpage with a valid token is allowed', path: '/productpage', auth: 'alice', expected: 200, reason: undefined },
    { name: '/api/v1/products/0 with a valid token is allowed', path: '/api/v1/products/0', auth: 'alice', expected: 200, reason: undefined },
    { name: '/api/v1/products/1 with a valid token is allowed', path: '/api/v1/products/1', auth: 'alice', expected: 200, reason: undefined },
    { name: '/productpage with a forged token is rejected even on the excluded path', path: '/productpage', auth: 'forged', expected: 401, reason: 'signature_invalid' },
    { name: '/api/v1/products/0 with a valid token lacking sub has no principal, so it is denied', path: '/api/v1/products/0', auth: 'no-sub', expected: 403, reason: 'denied_by_rule' },
  ] as const)('$name', async ({ path, auth, expected, reason: expectedReason }) => {
    let authorization: string | undefined;
    if (auth === 'alice') authorization = `Bearer ${await token('sub=alice')}`;
    if (auth === 'no-sub') authorization = `Bearer ${await token('sub=')}`;
    if (auth === 'forged') {
      // Same issuer and kid as the demo issuer, signed with a key generated here: the signature cannot verify.
      const other = await generateTestKey('RS256', issuerKid);
      authorization = `Bearer ${await mintToken(other, { iss: issuerUrl, sub: 'mallory' })}`;
    }
    const { status, sub, reason, removed } = await statusFor(path, authorization);
    expect(status).toBe(expected);
    expect(reason).toBe(expectedReason);
    // outputClaimToHeaders in the demo RequestAuthentication: the upstream learns who called.
    expect(sub).toBe(status === 200 && auth === 'alice' ? 'alice' : undefined);
    // forwardOriginalToken defaults to false, so the upstream never sees the token; without a token the client's
    // x-jwt-sub is removed (with one, it is overwritten by the claim above).
    if (status === 200) expect(removed).toContain(auth === 'alice' ? 'authorization' : 'x-jwt-sub');
  });

  it('stops cleanly on SIGTERM (exit code 0)', async () => {
    client.close();
    expect(await stop(service)).toBe(0);
  });
});
