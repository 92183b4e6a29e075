// What bench and soak share: a temp world (issuers, JWKS server, policies) and the three kinds of children
// (our service, the null server, load generators).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIssuers, startJwksServer } from './issuers.mjs';
import { writePolicies } from './policies.mjs';
import { pathToFileURL } from 'node:url';
import { forkReady, freePort, generatorClient, memoryOf, onExit, spawnTracked, stop, waitForHttp200 } from './processes.mjs';
import { REPO_ROOT } from './proto.mjs';

export const HOST = '127.0.0.1';

/** Reads a number from the environment, with a default. */
export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

/** Temp dir, issuers, JWKS server and policy files. `cleanup()` closes and removes them. */
export async function prepareWorld() {
  const dir = mkdtempSync(join(tmpdir(), 'envoy-jwt-authz-bench-'));
  const issuers = await createIssuers();
  const jwks = await startJwksServer(issuers);
  const policiesDir = join(dir, 'policies');
  const written = writePolicies(policiesDir, issuers, jwks.uriOf);
  const removeDir = () => {
    if (process.env.BENCH_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
  };
  // Also on Ctrl-C or a crash: the dir holds minted tokens and the policies.
  const unregister = onExit(removeDir);
  return {
    dir,
    issuers,
    jwks,
    policiesDir,
    written,
    async cleanup() {
      await jwks.close();
      removeDir();
      unregister();
    },
  };
}

/** Which service binary to run: the built CLI, or the harness's stand-in (BENCH_SERVICE=fake). */
function serviceEntry() {
  if (process.env.BENCH_SERVICE === 'fake') return join(REPO_ROOT, 'bench', 'dev', 'fake-service.mjs');
  const cli = join(REPO_ROOT, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} not found: run \`npm run build\` first (or BENCH_SERVICE=fake to test the harness)`);
  return cli;
}

/**
 * Starts our service as a child and waits for GET /readyz 200.
 * @param {{ policiesDir: string, nodeArgs?: string[], env?: Record<string, string>, name?: string }} options
 */
export async function startOurs({ policiesDir, nodeArgs = [], env = {}, name = 'ours' }) {
  const grpcPort = await freePort(HOST);
  const httpPort = await freePort(HOST);
  const args = [
    // As shipped (bin shebang, npm start, Dockerfile): the V8 heap capped so RSS follows the cache bounds.
    '--max-old-space-size=256',
    ...nodeArgs,
    serviceEntry(),
    'serve',
    '--policies',
    policiesDir,
    '--grpc-port',
    String(grpcPort),
    '--http-port',
    String(httpPort),
    '--host',
    HOST,
    '--log-level',
    process.env.BENCH_LOG_LEVEL ?? 'warn',
  ];
  // Flags the bench does not set on the command line go through the service's AUTHZ_* variables.
  const child = spawnTracked(process.execPath, args, name, {
    cwd: REPO_ROOT,
    env: { AUTHZ_DRAIN_DELAY: '0s', ...env },
    echo: process.env.BENCH_VERBOSE === '1',
  });
  const httpUrl = `http://${HOST}:${httpPort}`;
  await waitForHttp200(`${httpUrl}/readyz`, child, envNumber('BENCH_READY_TIMEOUT_MS', 30_000));
  return { child, pid: child.pid, address: `${HOST}:${grpcPort}`, httpUrl, name };
}

/** Stops our service gracefully (a CPU profile is written on a clean exit), SIGKILL after `graceMs`. */
export async function stopOurs(ours, graceMs = 10_000) {
  await stop(ours.child, graceMs);
  const { exitCode, signalCode } = ours.child;
  if (signalCode === 'SIGKILL') console.error(`bench: ${ours.name} did not stop within ${graceMs} ms, killed`);
  return { exitCode, signalCode, output: ours.child.outputTail() };
}

/** Starts the null ext_authz server (child process). */
export async function startNull() {
  const { child, message } = await forkReady(join(REPO_ROOT, 'bench', 'lib', 'null-server.mjs'), 'null', { env: { BENCH_HOST: HOST } });
  return { child, pid: child.pid, address: `${HOST}:${message.port}`, name: 'null' };
}

/** Starts a load generator child; returns `{ child, run(spec) }`. */
export async function startGenerator(name = 'load-generator') {
  const { child } = await forkReady(join(REPO_ROOT, 'bench', 'lib', 'load-generator.mjs'), name);
  return { child, ...generatorClient(child) };
}

/** CPU seconds (user + system) used so far by a process, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the `(comm)` part; utime and stime are fields 14 and 15 (1-based) of the whole line.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return ticks / 100; // USER_HZ is 100 on Linux.
  } catch {
    return NaN;
  }
}

/**
 * The few service metrics the bench reports (Prometheus text from GET /metrics), or undefined when the service has
 * none (the fake). Counters are summed over their labels.
 */
export async function scrapeMetrics(httpUrl) {
  let text;
  try {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return undefined;
    text = await res.text();
  } catch {
    return undefined;
  }
  const sums = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    sums.set(m[1], (sums.get(m[1]) ?? 0) + Number(m[3]));
    if (m[1] === 'authz_decisions_total') {
      const reason = /reason="([^"]*)"/.exec(m[2] ?? '')?.[1] ?? '';
      sums.set(`reason:${reason}`, (sums.get(`reason:${reason}`) ?? 0) + Number(m[3]));
    }
  }
  const get = (name) => sums.get(name) ?? NaN;
  return {
    cacheHits: get('authz_token_cache_hits_total'),
    cacheMisses: get('authz_token_cache_misses_total'),
    cacheEntries: get('authz_token_cache_entries'),
    internalErrors: get('authz_internal_errors_total'),
    heapUsedMb: get('authz_process_nodejs_heap_size_used_bytes') / 2 ** 20,
    heapTotalMb: get('authz_process_nodejs_heap_size_total_bytes') / 2 ** 20,
    reasons: Object.fromEntries([...sums].filter(([k]) => k.startsWith('reason:')).map(([k, v]) => [k.slice(7), v])),
  };
}

/** Differences of the counters between two scrapes. */
export function metricsDelta(before, after) {
  if (before === undefined || after === undefined) return undefined;
  const reasons = {};
  for (const [k, v] of Object.entries(after.reasons)) {
    const d = v - (before.reasons[k] ?? 0);
    if (d !== 0) reasons[k] = d;
  }
  const hits = after.cacheHits - before.cacheHits;
  const misses = after.cacheMisses - before.cacheMisses;
  return {
    cacheHits: hits,
    cacheMisses: misses,
    cacheHitRatio: hits / (hits + misses),
    internalErrors: after.internalErrors - before.internalErrors,
    cacheEntries: after.cacheEntries,
    heapUsedMb: after.heapUsedMb,
    reasons,
  };
}

/** Node flags and env that load gc-probe.mjs into our service (BENCH_GC_PROBE=0 turns it off). */
export function gcProbeOptions(dir) {
  if (process.env.BENCH_GC_PROBE === '0') return { nodeArgs: [], env: {}, file: undefined };
  const file = join(dir, 'gc-probe.json');
  return {
    nodeArgs: ['--expose-gc', `--import=${pathToFileURL(join(REPO_ROOT, 'bench', 'lib', 'gc-probe.mjs')).href}`],
    env: { BENCH_GC_PROBE_FILE: file },
    file,
  };
}

/** Asks our service for a full GC and its memory after it (MiB), or undefined without the probe. */
export async function liveMemoryOf(ours, probeFile) {
  if (probeFile === undefined) return undefined;
  const since = Date.now();
  ours.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      const m = JSON.parse(readFileSync(probeFile, 'utf8'));
      if (m.at >= since) return { heapUsedMb: m.heapUsed / 2 ** 20, rssMb: memoryOf(ours.pid).rssMb };
    } catch {
      // not written yet
    }
  }
  return undefined;
}
