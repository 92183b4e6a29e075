#!/usr/bin/env -S node --max-old-space-size=256
import { parseArgs } from 'node:util';
import { FLAGS, type FlagName, envName, loadConfig } from './env.js';
import { explain, parseHeaderFlags } from './explain.js';
import { callCheck } from './grpc/call-check.js';
import { serve } from './main.js';
import { mintDemoToken } from './demo-token.js';
import { formatIssue } from './policy/config-issue.js';
import { buildSnapshot } from './policy/compile-policies.js';
import { compileOptionsOf } from './main.js';

const USAGE = `envoy-jwt-authz — Envoy ext_authz v3 service for Istio, Kyma and Airlock JWT policies

Usage:
  envoy-jwt-authz serve    --policies <file|dir> [flags]
  envoy-jwt-authz validate --policies <file|dir>
  envoy-jwt-authz explain  --policies <file|dir> --method GET --path /x [--host h] [--header 'K: V']... [--now <RFC 3339>]
  envoy-jwt-authz mint-demo-token [--sub alice] [--ttl 3600] [--claim key=value]...
  envoy-jwt-authz call     [--target 127.0.0.1:9191] --path /x [--method GET] [--host h] [--header 'K: V']... [--context-extension k=v]...

Flags (each also read from the environment variable shown):
${Object.entries(FLAGS)
  .map(([name, f]) => `  --${name.padEnd(28)} ${f.help}${f.default === undefined ? '' : ` (default ${f.default})`}  [${envName(name)}]`)
  .join('\n')}
`;

const EXTRA = {
  method: { type: 'string' },
  path: { type: 'string' },
  'header-host': { type: 'string' },
  header: { type: 'string', multiple: true },
  now: { type: 'string' },
  'source-ip': { type: 'string' },
  'source-principal': { type: 'string' },
  'destination-principal': { type: 'string' },
  'context-extension': { type: 'string', multiple: true },
  sub: { type: 'string' },
  ttl: { type: 'string' },
  claim: { type: 'string', multiple: true },
  target: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flagOptions = Object.fromEntries(Object.keys(FLAGS).map((n) => [n, { type: 'string' as const }]));
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({ args: rest, options: { ...flagOptions, ...EXTRA }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (command === undefined || command === 'help' || command === '--help' || values['help'] === true) {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const flagValues: Record<string, string | undefined> = {};
  for (const name of Object.keys(FLAGS)) {
    const v = values[name];
    if (typeof v === 'string') flagValues[name] = v;
  }
  const required: FlagName[] = command === 'mint-demo-token' || command === 'call' ? [] : ['policies'];
  let config;
  try {
    config = loadConfig(flagValues, process.env, required);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  switch (command) {
    case 'serve':
      await serve(config);
      return -1; // keep running; serve sets process.exitCode itself
    case 'validate': {
      const r = buildSnapshot(config.policies, compileOptionsOf(config));
      const issues = r.ok ? r.warnings : r.issues;
      for (const i of issues) process.stderr.write(`${formatIssue(i)}\n`);
      if (!r.ok) {
        process.stderr.write(`${issues.filter((i) => i.severity === 'error').length} error(s)\n`);
        return 1;
      }
      process.stdout.write(`ok: ${r.snapshot.documentCount} document(s), digest ${r.snapshot.digest.slice(0, 16)}\n`);
      return 0;
    }
    case 'explain': {
      const headers = parseHeaderFlags((values['header'] as string[] | undefined) ?? []);
      if ('error' in headers) {
        process.stderr.write(`${headers.error}\n`);
        return 2;
      }
      const out = await explain(config, {
        method: (values['method'] as string | undefined) ?? 'GET',
        path: (values['path'] as string | undefined) ?? '/',
        host: (values['header-host'] as string | undefined) ?? (values['host'] as string | undefined),
        headers: headers.headers,
        now: values['now'] as string | undefined,
        sourceIp: values['source-ip'] as string | undefined,
        sourcePrincipal: values['source-principal'] as string | undefined,
        destinationPrincipal: values['destination-principal'] as string | undefined,
        contextExtensions: (values['context-extension'] as string[] | undefined) ?? [],
      });
      process.stdout.write(`${JSON.stringify(out.result, null, 2)}\n`);
      return out.exitCode;
    }
    case 'mint-demo-token': {
      const token = await mintDemoToken({
        sub: (values['sub'] as string | undefined) ?? 'alice',
        ttlSec: Number((values['ttl'] as string | undefined) ?? 3600),
        claims: (values['claim'] as string[] | undefined) ?? [],
      });
      process.stdout.write(`${token}\n`);
      return 0;
    }
    case 'call': {
      const headers = parseHeaderFlags((values['header'] as string[] | undefined) ?? []);
      if ('error' in headers) {
        process.stderr.write(`${headers.error}\n`);
        return 2;
      }
      const ext: Record<string, string> = {};
      for (const kv of (values['context-extension'] as string[] | undefined) ?? []) {
        const eq = kv.indexOf('=');
        if (eq > 0) ext[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const response = await callCheck({
        target: (values['target'] as string | undefined) ?? '127.0.0.1:9191',
        method: (values['method'] as string | undefined) ?? 'GET',
        path: (values['path'] as string | undefined) ?? '/',
        host: (values['host'] as string | undefined) ?? 'localhost',
        headers: headers.headers,
        contextExtensions: ext,
        timeoutMs: 5000,
      });
      process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
