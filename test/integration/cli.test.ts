import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The CLI as users run it: `node dist/cli.js ...` (built by `npm test` before the suite runs).
const CLI = join(import.meta.dirname, '../../dist/cli.js');
const BROKEN = join(import.meta.dirname, '../fixtures/policies/istio/invalid/broken.yaml');
const DEMO = join(import.meta.dirname, '../../policies');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('validate', () => {
  it('accepts the embedded default policies', () => {
    const r = cli('validate', '--policies', DEMO);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: 2 document\(s\)/);
  });

  it('lists every error with file, document and field path, and exits 1', () => {
    const r = cli('validate', '--policies', BROKEN);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n');
    const expected = [
      `${BROKEN}#2 spec.jwtRules[0].fromHeaders[0].name:`,
      `${BROKEN}#2 spec.jwtRules[0].issuer: Required`,
      `${BROKEN}#3 spec.rules[0].to[0].operation: Unrecognized key`,
      `${BROKEN}#4 kind: unknown kind security.istio.io/v1 Gateway`,
      `${BROKEN}#5 spec.rules: DENY policy without rules is meaningless`,
    ];
    for (const e of expected) expect(lines.some((l) => l.startsWith(e)), `missing line starting ${e}\n${r.stderr}`).toBe(true);
  });

  it('reports each bad field once the document parses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(
      file,
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: bad, namespace: foo}
spec:
  action: DENY
  rules:
  - from: [{source: {ipBlocks: ["10.0.0.300/8"]}}]
    to: [{operation: {ports: ["99999"], paths: ["/a/{**}/b"]}}]
    when: [{key: "request.auth.claims[groups]"}, {key: "destination.labels[app]", values: [x]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: empty, namespace: foo}
spec:
  rules:
  - when: [{key: "request.headers[a]", values: [""]}]
`,
    );
    const r = cli('validate', '--policies', file);
    expect(r.code).toBe(1);
    for (const e of [
      `${file}#1 spec.rules[0].from[0].source.ipBlocks[0]: "10.0.0.300/8" is not a valid IP address or CIDR`,
      `${file}#1 spec.rules[0].to[0].operation.ports[0]: port "99999" is not in 0-65535`,
      `${file}#1 spec.rules[0].to[0].operation.paths[0]: "{**}" must be the last segment of a path template`,
      `${file}#1 spec.rules[0].when[0]: condition needs values or notValues`,
      `${file}#1 spec.rules[0].when[1].key: destination.labels is not supported: use selector instead`,
      `${file}#2 spec.rules[0].when[0].values[0]: must not be empty`,
    ]) {
      expect(r.stderr, r.stderr).toContain(e);
    }
  });

  it('reports YAML syntax errors and unreadable paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: [unclosed\n');
    const r = cli('validate', '--policies', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/a\.yaml#1: YAML:/);
    const missing = cli('validate', '--policies', join(dir, 'nope'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read policies/);
  });
});

describe('serve refuses invalid policies', () => {
  it('exits 1 listing the errors and never binds', () => {
    const r = cli('serve', '--policies', BROKEN, '--grpc-port', '0', '--http-port', '0', '--host', '127.0.0.1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${BROKEN}#2 spec.jwtRules[0].issuer: Required`);
  });

  it('rejects bad flags with a clear message', () => {
    const r = cli('serve', '--policies', DEMO, '--grpc-port', 'abc');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--grpc-port "abc"/);
  });
});

describe('explain', () => {
  it('traces a token found, verified and allowed, without printing the token', () => {
    const token = cli('mint-demo-token', '--sub', 'alice').stdout.trim();
    const r = cli('explain', '--policies', DEMO, '--method', 'GET', '--path', '/api/v1/products/0', '--header', `Authorization: Bearer ${token}`);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(token.split('.')[2]);
    const out = JSON.parse(r.stdout) as { decision: string; principal: string; trace: { step: string; message: string }[] };
    expect(out.decision).toBe('allow');
    expect(out.principal).toBe('https://demo.envoy-jwt-authz.local/alice');
    expect(out.trace.map((t) => t.step)).toEqual(expect.arrayContaining(['request', 'extract', 'verify', 'authorize', 'respond']));
  });

  it('explains a denial by the DENY rule and an exempt path', () => {
    const denied = JSON.parse(cli('explain', '--policies', DEMO, '--path', '/api/v1/products/0').stdout) as Record<string, unknown>;
    expect(denied).toMatchObject({ decision: 'deny', httpStatus: 403, reason: 'denied_by_rule', rule: 'istio-system/require-jwt rules[0]' });
    const open = JSON.parse(cli('explain', '--policies', DEMO, '--path', '/productpage').stdout) as Record<string, unknown>;
    expect(open).toMatchObject({ decision: 'allow', httpStatus: 200 });
  });

  it('judges token times at --now', () => {
    const token = cli('mint-demo-token', '--ttl', '60').stdout.trim();
    const later = new Date(Date.now() + 3600_000).toISOString();
    const out = JSON.parse(cli('explain', '--policies', DEMO, '--path', '/x', '--now', later, '--header', `authorization: Bearer ${token}`).stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ decision: 'deny', httpStatus: 401, reason: 'token_expired' });
  });

  it('reports invalid policies', () => {
    const r = cli('explain', '--policies', BROKEN, '--path', '/');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('invalid policies');
  });
});
