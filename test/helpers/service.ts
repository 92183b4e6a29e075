import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/env.js';
import { createLogger } from '../../src/log.js';
import { type ServiceHandle, startService } from '../../src/main.js';
import { type AuthzClient, type CheckRequestInput, type CheckResponseObject, checkRequest, createAuthzClient } from './upstream-client.js';

/** A real service on 127.0.0.1 (random ports) over a temp policies directory, plus an upstream-proto client. */
export interface TestService {
  readonly handle: ServiceHandle;
  readonly client: AuthzClient;
  readonly dir: string;
  readonly httpUrl: string;
  /** Log lines the service wrote (JSON strings). */
  readonly logs: string[];
  /** One Check round trip. */
  check(input?: CheckRequestInput, options?: { deadlineMs?: number }): Promise<CheckResponseObject>;
  /** Replaces a policy file (then call `handle.store.reload()` or wait for the watcher). */
  write(name: string, yaml: string): void;
  close(): Promise<void>;
}

/**
 * Starts the service. `policies` maps file names to YAML text. `flags` are CLI flags without `--`
 * (e.g. `{ 'status-on-error': '403' }`). File watching is off unless `watch: 'true'` is passed.
 */
export async function startTestService(policies: Readonly<Record<string, string>>, flags: Readonly<Record<string, string>> = {}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'authz-test-'));
  for (const [name, text] of Object.entries(policies)) writeFileSync(join(dir, name), text);
  const config = loadConfig({ policies: dir, 'grpc-port': '0', 'http-port': '0', host: '127.0.0.1', 'drain-delay': '0s', 'shutdown-timeout': '2s', watch: 'false', 'log-level': 'debug', ...flags }, {});
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(line);
      cb();
    },
  });
  let handle: ServiceHandle;
  try {
    handle = await startService(config, createLogger(config.logLevel, sink));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const client = createAuthzClient(handle.grpcPort);
  return {
    handle,
    client,
    dir,
    logs,
    httpUrl: `http://127.0.0.1:${handle.httpPort}`,
    check: (input = {}, options = {}) => client.check(checkRequest(input), options),
    write: (name, yaml) => writeFileSync(join(dir, name), yaml),
    async close() {
      client.close();
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
