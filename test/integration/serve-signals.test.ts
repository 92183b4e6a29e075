import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `serve` as a process: SIGHUP reloads (file watching off), a broken file keeps the last good snapshot, SIGTERM
// drains and exits 0. Uses the built CLI (`npm test` builds first).
const CLI = join(import.meta.dirname, '../../dist/cli.js');
const DEMO = readFileSync(join(import.meta.dirname, '../../policies/demo.yaml'), 'utf8');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('serve signals', () => {
  let dir: string;
  let child: ChildProcess;
  let http: string;
  const readyz = async (): Promise<{ snapshot: { digest: string; generation: number }; lastReloadErrors: string[] }> =>
    (await (await fetch(`${http}/readyz`)).json()) as never;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serve-'));
    writeFileSync(join(dir, 'demo.yaml'), DEMO);
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    http = `http://127.0.0.1:${httpPort}`;
    child = spawn(process.execPath, [CLI, 'serve', '--policies', dir, '--grpc-port', String(grpcPort), '--http-port', String(httpPort), '--host', '127.0.0.1', '--watch', 'false', '--drain-delay', '0s', '--log-level', 'warn'], { stdio: 'ignore' });
    await waitFor(async () => ((await fetch(`${http}/readyz`)).status === 200 ? true : undefined));
  });
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGHUP reloads a changed file; a broken one keeps the last good snapshot serving', async () => {
    const first = await readyz();
    writeFileSync(join(dir, 'extra.yaml'), 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: audit}\nspec: {action: AUDIT, rules: [{}]}\n');
    child.kill('SIGHUP');
    const second = await waitFor(async () => {
      const r = await readyz();
      return r.snapshot.generation > first.snapshot.generation ? r : undefined;
    });
    expect(second.snapshot.digest).not.toBe(first.snapshot.digest);
    writeFileSync(join(dir, 'extra.yaml'), 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: audit}\nspec: {action: SOMETIMES}\n');
    child.kill('SIGHUP');
    const third = await waitFor(async () => {
      const r = await readyz();
      return r.lastReloadErrors.length > 0 ? r : undefined;
    });
    expect(third.snapshot.digest).toBe(second.snapshot.digest);
    expect(third.lastReloadErrors[0]).toMatch(/extra\.yaml#1 spec\.action:/);
    expect((await fetch(`${http}/readyz`)).status).toBe(200);
  });

  it('SIGTERM drains and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
