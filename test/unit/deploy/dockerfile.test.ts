/**
 * The Dockerfile without a Docker engine: multi-stage, non-root, a HEALTHCHECK on /healthz with node, the
 * policies volume where the ENTRYPOINT reads policies, and every COPY source present in the repository and not
 * dropped by .dockerignore.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flagsOf } from './manifests.js';
import { copyParts, execForm, isIgnored, readDockerfile, readDockerignore } from './dockerfile.js';

const instructions = readDockerfile('Dockerfile');
const lastStage = Math.max(...instructions.map((i) => i.stage));
const final = instructions.filter((i) => i.stage === lastStage);
const only = (keyword: string): string => {
  const found = final.filter((i) => i.keyword === keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the runtime stage, found ${found.length}`);
  return found[0]?.args ?? '';
};
const entrypoint = execForm(only('ENTRYPOINT')) ?? [];
const cmd = execForm(only('CMD')) ?? [];
const flags = flagsOf([...entrypoint, ...cmd]);

describe('Dockerfile', () => {
  it('builds in separate stages: full install + build, production-only install, runtime', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    expect(froms.length).toBeGreaterThanOrEqual(3);
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs).toContain('npm run build');
    expect(runs.some((r) => /^npm ci\b.*--omit=dev/.test(r))).toBe(true);
    // The runtime stage installs nothing and runs no npm.
    expect(final.filter((i) => i.keyword === 'RUN')).toEqual([]);
  });

  it('takes node_modules from the --omit=dev stage and dist from the build stage', () => {
    const stageOf = (name: string): number => instructions.find((i) => i.keyword === 'FROM' && i.args.endsWith(` AS ${name}`))?.stage ?? -1;
    const copies = final.filter((i) => i.keyword === 'COPY').map((i) => copyParts(i.args));
    const from = (src: string): string | undefined => copies.find((c) => c.sources.includes(src))?.flags.get('from');
    const deps = from('/app/node_modules');
    const build = from('/app/dist');
    expect(deps).toBeDefined();
    expect(build).toBeDefined();
    expect(instructions.some((i) => i.stage === stageOf(deps ?? '') && i.keyword === 'RUN' && i.args.includes('--omit=dev'))).toBe(true);
    expect(instructions.some((i) => i.stage === stageOf(build ?? '') && i.keyword === 'RUN' && i.args === 'npm run build')).toBe(true);
  });

  it('runs as a numeric non-root user (Kubernetes runAsNonRoot can verify it)', () => {
    const user = final.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    // Nothing after USER switches back.
    const idx = final.findIndex((i) => i.keyword === 'USER');
    expect(final.slice(idx + 1).some((i) => i.keyword === 'USER')).toBe(false);
  });

  it('serves policies from the declared volume', () => {
    expect(entrypoint.slice(0, 4)).toEqual(['node', '--max-old-space-size=256', 'dist/cli.js', 'serve']);
    expect(only('VOLUME')).toBe(flags.get('--policies'));
    expect(flags.get('--host')).toBe('0.0.0.0');
  });

  it('caps the V8 heap exactly as the bin shebang, npm start and the bench do', () => {
    const root = join(import.meta.dirname, '../../..');
    const flag = '--max-old-space-size=256';
    expect(readFileSync(join(root, 'src/cli.ts'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flag}`);
    expect((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start).toContain(`node ${flag} dist/cli.js serve`);
    expect(readFileSync(join(root, 'bench/lib/setup.mjs'), 'utf8')).toContain(`'${flag}'`);
    expect(entrypoint).toContain(flag);
  });

  it('exposes the gRPC and HTTP ports the command binds', () => {
    expect(only('EXPOSE').split(' ').map(Number).sort()).toEqual([Number(flags.get('--grpc-port')), Number(flags.get('--http-port'))].sort());
  });

  it('health-checks GET /healthz on the HTTP port with node (no curl in the image)', () => {
    const hc = only('HEALTHCHECK');
    const m = /CMD (\[.*\])$/.exec(hc);
    const argv = execForm(m?.[1] ?? '') ?? [];
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain(`http://127.0.0.1:${String(flags.get('--http-port'))}/healthz`);
    expect(hc).toMatch(/--interval=\d+s/);
    expect(hc).toMatch(/--timeout=\d+s/);
  });

  it('copies package.json (ESM "type": "module") and proto/ next to dist/', () => {
    const sources = final.filter((i) => i.keyword === 'COPY').flatMap((i) => copyParts(i.args).sources);
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'proto']));
    expect((JSON.parse(readFileSync('package.json', 'utf8')) as { type?: string }).type).toBe('module');
  });

  it('copies only paths that exist and that .dockerignore keeps in the context', () => {
    const ignore = readDockerignore('.dockerignore');
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
      .map((i) => copyParts(i.args))
      .filter((c) => !c.flags.has('from'))
      .flatMap((c) => c.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) {
      expect(existsSync(s), `${s} exists`).toBe(true);
      expect(isIgnored(ignore, s), `${s} is not in .dockerignore`).toBe(false);
    }
  });
});

describe('.dockerignore', () => {
  const ignore = readDockerignore('.dockerignore');
  it.each([
    { path: 'node_modules/jose/package.json', ignored: true },
    { path: '.git/config', ignored: true },
    { path: 'dist/cli.js', ignored: true },
    { path: 'test/unit/deploy/dockerfile.test.ts', ignored: true },
    { path: 'README.md', ignored: true },
    { path: '.env.local', ignored: true },
    { path: 'src/cli.ts', ignored: false },
    { path: 'proto/envoy/service/auth/v3/external_auth.proto', ignored: false },
    { path: 'package-lock.json', ignored: false },
    { path: 'tsconfig.json', ignored: false },
  ])('$path ignored: $ignored', ({ path, ignored }) => {
    expect(isIgnored(ignore, path)).toBe(ignored);
  });
});
