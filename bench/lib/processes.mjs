// Child processes of a bench run: started here, tracked, and all of them stopped on the way out — normal end,
// error, Ctrl-C or SIGTERM. Only the children we started are ever signalled (by their pid).
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
/** Synchronous clean-ups (temp dirs) that must also run when the run is cut short. */
const exitHooks = new Set();
let handlersInstalled = false;

/** Runs `fn` (synchronous) when the process exits, however it exits; returns a function that unregisters it. */
export function onExit(fn) {
  exitHooks.add(fn);
  return () => exitHooks.delete(fn);
}

function track(child, name) {
  children.add(child);
  child.benchName = name;
  child.once('exit', () => children.delete(child));
  return child;
}

/** Installs exit/signal handlers that stop every tracked child. Call once at the start of a run. */
export function installCleanup() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Last resort: a synchronous SIGKILL of whatever is still alive when this process exits.
  process.on('exit', () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const fn of exitHooks) {
      try {
        fn();
      } catch {
        // best effort on the way out
      }
    }
  });
  const onSignal = (signal) => {
    console.error(`\nbench: ${signal}, stopping children`);
    stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('uncaughtException', (err) => {
    console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
    stopAll().finally(() => process.exit(1));
  });
  process.on('unhandledRejection', (err) => {
    console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
    stopAll().finally(() => process.exit(1));
  });
}

/** SIGTERM to one child, SIGKILL after `graceMs`; resolves when it has exited. */
export function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops every tracked child. */
export async function stopAll(graceMs = 3000) {
  await Promise.all([...children].map((c) => stop(c, graceMs)));
}

/** Forks a bench module with IPC and waits for its `{ type: 'ready' }` message. */
export function forkReady(modulePath, name, { args = [], env = {}, execArgv = [], timeoutMs = 20_000 } = {}) {
  const child = track(
    fork(modulePath, args, { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    name,
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: not ready after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited before ready (code ${code}, signal ${signal})`));
    });
    child.on('message', function onMessage(msg) {
      if (msg?.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve({ child, message: msg });
    });
  });
}

/** Spawns a command, keeping the last lines of its output for error messages. */
export function spawnTracked(command, args, name, { env = {}, cwd, echo = false } = {}) {
  const child = track(spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }), name);
  const tail = [];
  const keep = (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (echo) console.error(`[${name}] ${line}`);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.outputTail = () => tail.join('\n');
  return child;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200, the child exits, or the timeout passes. */
export async function waitForHttp200(url, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${child.benchName} exited (code ${child.exitCode}, signal ${child.signalCode}) before ${url} was ready:\n${child.outputTail?.() ?? ''}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      last = `HTTP ${res.status}`;
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (last: ${last}):\n${child.outputTail?.() ?? ''}`);
}

/** VmRSS and VmHWM of a process in MiB, from /proc/<pid>/status (Linux). */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: NaN, hwmMb: NaN };
  }
}

/** Talks to a forked load generator: `run(spec)` resolves with its result. */
export function generatorClient(child) {
  let nextId = 1;
  const pending = new Map();
  child.on('message', (msg) => {
    const p = pending.get(msg?.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    if (msg.type === 'result') p.resolve(msg.result);
    else p.reject(new Error(`load generator: ${msg.message}`));
  });
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`load generator exited (code ${code}, signal ${signal})`));
    pending.clear();
  });
  return {
    run(spec) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ type: 'run', id, spec });
      });
    },
  };
}
