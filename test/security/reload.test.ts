/**
 * Lifecycle (security.md §3.3, §3.4, §3.10 D): hot reload good → broken → good while requests flow, fail-fast on
 * invalid policies (in process and as a real `serve` child process), and graceful shutdown with in-flight Checks.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidPoliciesError } from '../../src/main.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { generateTestKey, jwksOf, mintToken } from '../helpers/tokens.js';
import { bodyOf, httpStatusOf } from '../helpers/upstream-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Snapshot A: DENY /x. Snapshot B: ALLOW only /y. Under both, /x is 403; only an empty (half-built) set allows it. */
const POLICY_A = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-x, namespace: istio-system}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: ["/x"]}}]}]
`;
const POLICY_B = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-y, namespace: istio-system}
spec:
  action: ALLOW
  rules: [{to: [{operation: {paths: ["/y"]}}]}]
`;
// Unknown field under spec.rules[0].to[0].operation: rejected with its path.
const BROKEN = POLICY_A.replace('paths: ["/x"]', 'paths: ["/x"], pathz: ["/z"]');

type Answer = { status: number; reason: string | undefined };
const EXPECTED: Record<'A' | 'B', Record<string, Answer>> = {
  A: { '/x': { status: 403, reason: 'denied_by_rule' }, '/y': { status: 200, reason: undefined }, '/z': { status: 200, reason: undefined } },
  B: { '/x': { status: 403, reason: 'no_allow_rule_matched' }, '/y': { status: 200, reason: undefined }, '/z': { status: 403, reason: 'no_allow_rule_matched' } },
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function metric(svc: TestService, line: string): Promise<number> {
  const text = await (await fetch(`${svc.httpUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found === undefined ? 0 : Number(found.slice(line.length).trim());
}

describe('hot reload under traffic', () => {
  it('good → broken → good: every answer comes from a whole snapshot, readiness stays up, failures are counted', async () => {
    const svc = await startTestService({ 'p.yaml': POLICY_A }, { 'log-level': 'warn' });
    cleanup.push(() => svc.close());
    type Phase = 'A' | 'broken' | 'AorB' | 'B';
    const snapshotsOf: Record<Phase, ('A' | 'B')[]> = { A: ['A'], broken: ['A'], AorB: ['A', 'B'], B: ['B'] };
    const answers: { path: string; answer: Answer; phases: Phase[] }[] = [];
    let phase: Phase = 'A';
    let running = true;
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        const path = ['/x', '/y', '/z'][i % 3] ?? '/x';
        const before = phase;
        const resp = await svc.check({ path });
        answers.push({ path, answer: { status: httpStatusOf(resp), reason: (bodyOf(resp) as { error?: string } | undefined)?.error }, phases: [before, phase] });
      }
    })();
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));
    await settle();

    svc.write('p.yaml', BROKEN);
    await svc.handle.store.reload();
    phase = 'broken';
    await settle();
    const ready = (await (await fetch(`${svc.httpUrl}/readyz`)).json()) as { ready: boolean; lastReloadErrors: string[] };
    expect(ready.ready).toBe(true);
    expect(ready.lastReloadErrors.join('\n')).toMatch(/p\.yaml#1 spec\.rules\[0\]\.to\[0\]\.operation.*pathz/);
    expect(await metric(svc, 'authz_policy_reloads_total{result="failure"}')).toBe(1);

    phase = 'AorB';
    svc.write('p.yaml', POLICY_B);
    await svc.handle.store.reload();
    phase = 'B';
    await settle();
    running = false;
    await traffic;

    expect(await metric(svc, 'authz_policy_reloads_total{result="success"}')).toBe(1);
    expect(await metric(svc, 'authz_policy_reloads_total{result="failure"}')).toBe(1);
    expect(((await (await fetch(`${svc.httpUrl}/readyz`)).json()) as { lastReloadErrors: string[] }).lastReloadErrors).toEqual([]);
    expect(answers.length).toBeGreaterThan(30);
    // A request sent and answered within one phase must match that phase's snapshot; one that straddled a phase
    // change may match either side. Nothing else (an empty or mixed snapshot would allow /x) is acceptable.
    for (const { path, answer, phases } of answers) {
      const allowed = [...new Set(phases.flatMap((p) => snapshotsOf[p]))].map((s) => EXPECTED[s][path]);
      expect(allowed, `${path} sent in phase ${phases[0] ?? ''}`).toContainEqual(answer);
    }
    expect(answers.filter((a) => a.phases.every((p) => p === 'broken')).length).toBeGreaterThan(5);
    expect(answers.filter((a) => a.phases.every((p) => p === 'B')).length).toBeGreaterThan(5);
  });
});

describe('reload with a new remote issuer', () => {
  it('fetches the new keys before the swap: the first token after reload() is allowed, one fetch', async () => {
    const key = await generateTestKey('RS256', 'k1');
    const jwks = await startJwksServer({ '/jwks.json': { body: jwksOf(key), delayMs: 150 } });
    cleanup.push(() => jwks.close());
    const svc = await startTestService({ 'p.yaml': POLICY_A }, { 'log-level': 'warn' });
    cleanup.push(() => svc.close());
    const token = await mintToken(key, { iss: 'https://new.test', sub: 'alice' });
    svc.write(
      'ra.yaml',
      `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: new, namespace: istio-system}\nspec:\n  jwtRules:\n  - {issuer: https://new.test, jwksUri: '${jwks.url}/jwks.json'}\n`,
    );
    await svc.handle.store.reload();
    expect(jwks.count()).toBe(1);
    jwks.set('/jwks.json', { status: 500 });
    const resp = await svc.check({ path: '/y', headers: { authorization: `Bearer ${token}` } });
    expect(httpStatusOf(resp)).toBe(200);
    expect(jwks.count()).toBe(1);
  });
});

describe('fail-fast on invalid policies at start', () => {
  it('startService rejects with every issue (file#doc path: message), no partial policy set', async () => {
    const err = await startTestService({ 'a.yaml': BROKEN, 'b.yaml': POLICY_B.replace('action: ALLOW', 'action: MAYBE') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidPoliciesError);
    const issues = (err as InvalidPoliciesError).issues.filter((i) => i.severity === 'error');
    expect(issues.map((i) => `${i.file.split('/').pop() ?? ''}#${i.document} ${i.path}`)).toEqual(
      expect.arrayContaining(['a.yaml#1 spec.rules[0].to[0].operation', 'b.yaml#1 spec.action']),
    );
    expect((err as Error).message).toMatch(/a\.yaml#1 spec\.rules\[0\]\.to\[0\]\.operation: /);
  });

  it('`node dist/cli.js serve` with an invalid file exits 1 within 5 s and lists file#doc path', async () => {
    const cli = join(ROOT, 'dist/cli.js');
    expect(existsSync(cli), 'dist/cli.js is missing: run `npm run build` first (npm test does)').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'authz-cli-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'bad.yaml'), BROKEN);
    const started = Date.now();
    const child = spawn(process.execPath, [cli, 'serve', '--policies', dir, '--grpc-port', '0', '--http-port', '0', '--host', '127.0.0.1', '--watch', 'false'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.on('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stderr).toContain(`${join(dir, 'bad.yaml')}#1 spec.rules[0].to[0].operation: `);
    expect(stderr).toMatch(/pathz/);
  });
});

describe('graceful shutdown', () => {
  it('in-flight Checks held by a slow JWKS all get an answer; new calls are refused', async () => {
    const [k1, k2] = await Promise.all([generateTestKey('RS256', 'k1'), generateTestKey('RS256', 'k2')]);
    const jwks = await startJwksServer({ '/jwks.json': { body: jwksOf(k1) } });
    cleanup.push(() => jwks.close());
    const yaml = `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: remote, namespace: istio-system}
spec:
  jwtRules:
  - {issuer: https://remote.test, jwksUri: '${jwks.url}/jwks.json', timeout: 5s}
`;
    const svc = await startTestService({ 'ra.yaml': yaml }, { 'log-level': 'warn', 'shutdown-timeout': '4s' });
    cleanup.push(async () => {
      svc.client.close();
      rmSync(svc.dir, { recursive: true, force: true });
    });
    // k2 is unknown: the first Check triggers one refetch, which the endpoint now answers slowly; the rest wait on it.
    jwks.set('/jwks.json', { body: jwksOf(k1, k2), delayMs: 1200 });
    const token = await mintToken(k2, { iss: 'https://remote.test', sub: 'alice' });
    const inflight = Array.from({ length: 40 }, () => svc.check({ path: '/api', headers: { authorization: `Bearer ${token}` } }));
    await new Promise((r) => setTimeout(r, 200));
    const closing = svc.handle.close();
    const results = await Promise.allSettled(inflight);
    await closing;
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(results.map((r) => (r.status === 'fulfilled' ? httpStatusOf(r.value) : 0))).toEqual(Array.from({ length: 40 }, () => 200));
    expect(jwks.count()).toBe(2);
    await expect(svc.check({ path: '/api' }, { deadlineMs: 1000 })).rejects.toThrow();
  });
});
