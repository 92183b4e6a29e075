// Load generator, run as a forked child so its CPU is never the server's. Driven over IPC:
//   parent → { type: 'run', id, spec }      spec: see RunSpec below
//   child  → { type: 'result', id, result } or { type: 'error', id, message }
// BENCH_CLIENT picks the transport (transports.mjs). Requests are serialized once per distinct token (the
// x-request-id bytes are patched per call); responses are decoded and classified so every scenario can assert its
// expected outcome.
import { readFileSync } from 'node:fs';
import { loadAuthorization } from './proto.mjs';
import { connect } from './transports.mjs';
import { REQUEST_ID_PLACEHOLDER, buildCheckRequest } from './request.mjs';
import { summarize } from './stats.mjs';

/**
 * @typedef {object} RunSpec
 * @property {string} address         host:port of the ext_authz server
 * @property {'closed' | 'open'} mode  closed loop (max throughput) or fixed rate (latency)
 * @property {number} seconds         measured duration (0 with `once` = until every token was sent once)
 * @property {number} [warmupSeconds] unmeasured lead-in (closed loop at the same concurrency)
 * @property {number} channels        HTTP/2 connections
 * @property {number} concurrency     calls in flight per connection (closed loop)
 * @property {number} [rate]          requests per second (open loop)
 * @property {string | null} tokens   file with one token per line, or null for no token
 * @property {boolean} [once]         send each token exactly once (closed loop), then stop
 * @property {string} path            request :path
 * @property {string} [okHeader]      an OK response must set this upstream header (lower-case)
 * @property {number} [deadlineMs]    per-call deadline
 */

const { service } = loadAuthorization();
const CHECK = service.Check;
const MAX_IN_FLIGHT_OPEN = 5000;
/** Distinct tokens up to this count keep their serialized request; beyond, requests are built per call. */
const SERIALIZED_CACHE_LIMIT = 20_000;

/** @type {Map<string, ReturnType<typeof connect>>} */
const clients = new Map();
/** @type {Map<string, string[]>} */
const tokenFiles = new Map();
let requestCounter = 0;
const CLIENT_KIND = process.env.BENCH_CLIENT ?? 'http2';

function clientsFor(address, channels) {
  const key = `${address}#${channels}`;
  let list = clients.get(key);
  if (list === undefined) {
    list = connect(CLIENT_KIND, address, channels);
    clients.set(key, list);
  }
  return list;
}

/**
 * Tokens of a file: one per line, optionally `<expect>\t<token>` where expect is ok | deny | any (soak mixes).
 * @returns {{ token: string | undefined, expect: string | undefined }[]}
 */
function tokensOf(file) {
  if (file === null) return [{ token: undefined, expect: undefined }];
  let list = tokenFiles.get(file);
  if (list === undefined) {
    list = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const tab = l.indexOf('\t');
        return tab < 0 ? { token: l, expect: undefined } : { token: l.slice(tab + 1), expect: l.slice(0, tab) };
      });
    // Files are read once per process; the soak writes a new file per segment and drops the old one.
    if (tokenFiles.size > 8) tokenFiles.delete(tokenFiles.keys().next().value);
    tokenFiles.set(file, list);
  }
  return list;
}

/**
 * Returns `next()`: the next request (tokens cycled in order) as a gRPC length-prefixed message — 5-byte header,
 * then the serialized CheckRequest — with a fresh x-request-id written into the bytes.
 */
function requestSource(spec) {
  const tokens = tokensOf(spec.tokens);
  const cache = tokens.length <= SERIALIZED_CACHE_LIMIT ? new Array(tokens.length) : undefined;
  let i = 0;
  const build = (token) => {
    const message = CHECK.requestSerialize(buildCheckRequest({ token, path: spec.path }));
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const offset = frame.indexOf(REQUEST_ID_PLACEHOLDER);
    if (offset < 0) throw new Error('request id placeholder not found in serialized request');
    return { frame, offset };
  };
  return {
    size: tokens.length,
    next() {
      const index = i % tokens.length;
      i += 1;
      let entry = cache?.[index];
      if (entry === undefined) {
        entry = build(tokens[index].token);
        if (cache !== undefined) cache[index] = entry;
      }
      const out = Buffer.allocUnsafe(entry.frame.length);
      entry.frame.copy(out);
      requestCounter += 1;
      // A UUID-shaped id, unique per call in this process.
      const hex = requestCounter.toString(16).padStart(32, '0');
      const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
      out.write(id, entry.offset, 'latin1');
      return { frame: out, expect: tokens[index].expect };
    },
  };
}

function newCounts() {
  return { sent: 0, ok: 0, okMissingHeader: 0, denied: {}, errors: {}, byExpect: {}, latenciesMs: [] };
}

function classify(counts, spec, err, response, startNs, record, expect) {
  const ms = Number(process.hrtime.bigint() - startNs) / 1e6;
  if (record) counts.latenciesMs.push(ms);
  const outcome = err ? 'error' : (response?.status?.code ?? 0) === 0 ? 'ok' : 'denied';
  if (expect !== undefined) {
    const e = (counts.byExpect[expect] ??= { ok: 0, denied: 0, error: 0 });
    e[outcome] += 1;
  }
  if (err) {
    counts.errors[err.name] = (counts.errors[err.name] ?? 0) + 1;
    return;
  }
  if (outcome === 'ok') {
    counts.ok += 1;
    if (spec.okHeader !== undefined) {
      const headers = response.ok_response?.headers ?? [];
      if (!headers.some((h) => h.header?.key?.toLowerCase() === spec.okHeader)) counts.okMissingHeader += 1;
    }
    return;
  }
  // Envoy: a denial without denied_response.status is a 403 (ext_authz_grpc_impl.cc).
  const http = response.denied_response?.status?.code || 403;
  counts.denied[http] = (counts.denied[http] ?? 0) + 1;
}

function call(client, spec, frame, done) {
  client.call(CHECK, frame, spec.deadlineMs ?? 5000, done);
}

/** Closed loop: every connection keeps `concurrency` calls in flight; resolves after warmup + seconds. */
function runClosed(spec) {
  const list = clientsFor(spec.address, spec.channels);
  const source = requestSource(spec);
  const counts = newCounts();
  const warmup = newCounts();
  const total = spec.once ? source.size : Infinity;
  let issued = 0;
  let measuring = false;
  let stopping = false;
  let inFlight = 0;
  let measuredStart = process.hrtime.bigint();
  let measuredEnd = 0n;
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      measuredEnd = process.hrtime.bigint();
      const elapsedSec = Number(measuredEnd - measuredStart) / 1e9;
      const r = report(counts, elapsedSec);
      r.warmup = report(warmup, 1);
      resolve(r);
    };
    const loop = (client) => {
      if (stopping || issued >= total) {
        if (inFlight === 0) finish();
        return;
      }
      issued += 1;
      inFlight += 1;
      const into = measuring ? counts : warmup;
      into.sent += 1;
      const start = process.hrtime.bigint();
      const next = source.next();
      call(client, spec, next.frame, (err, response) => {
        inFlight -= 1;
        classify(into, spec, err, response, start, into === counts, next.expect);
        loop(client);
      });
    };
    const startMeasuring = () => {
      measuring = true;
      measuredStart = process.hrtime.bigint();
      if (!spec.once) setTimeout(() => (stopping = true), spec.seconds * 1000);
    };
    // `once` measures from the first call so every token is counted; otherwise warm up first.
    if (spec.once || !spec.warmupSeconds) startMeasuring();
    else setTimeout(startMeasuring, spec.warmupSeconds * 1000);
    for (const client of list) for (let c = 0; c < spec.concurrency; c++) loop(client);
  });
}

/** Open loop at a fixed rate; latency is measured from the actual send, generator lag separately. */
function runOpen(spec) {
  const list = clientsFor(spec.address, spec.channels);
  const source = requestSource(spec);
  const counts = newCounts();
  const lagMs = [];
  let dropped = 0;
  let inFlight = 0;
  let sent = 0;
  const intervalNs = 1e9 / spec.rate;
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const endNs = BigInt(Math.round(spec.seconds * 1e9));
    let finished = false;
    let doneSending = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      // Until the last answer: an overloaded server shows as an achieved rate below the target.
      const r = report(counts, Number(process.hrtime.bigint() - start) / 1e9);
      r.targetRps = spec.rate;
      r.dropped = dropped;
      r.generatorLag = summarize(lagMs);
      resolve(r);
    };
    const tick = () => {
      const now = process.hrtime.bigint();
      const elapsed = now - start;
      const due = Math.min(Math.floor(Number(elapsed) / intervalNs), Math.floor(spec.seconds * spec.rate));
      while (sent < due) {
        const scheduled = start + BigInt(Math.round(sent * intervalNs));
        sent += 1;
        if (inFlight >= MAX_IN_FLIGHT_OPEN) {
          dropped += 1;
          continue;
        }
        lagMs.push(Number(now - scheduled) / 1e6);
        counts.sent += 1;
        inFlight += 1;
        const t0 = process.hrtime.bigint();
        const next = source.next();
        call(list[sent % list.length], spec, next.frame, (err, response) => {
          inFlight -= 1;
          classify(counts, spec, err, response, t0, true, next.expect);
          if (doneSending && inFlight === 0) finish();
        });
      }
      if (elapsed >= endNs) {
        doneSending = true;
        if (inFlight === 0) finish();
        return;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
}

function report(counts, elapsedSec) {
  const completed = counts.ok + sum(counts.denied) + sum(counts.errors);
  return {
    sent: counts.sent,
    completed,
    ok: counts.ok,
    okMissingHeader: counts.okMissingHeader,
    byExpect: counts.byExpect,
    denied: counts.denied,
    errors: counts.errors,
    elapsedSec,
    rps: completed / elapsedSec,
    latency: summarize(counts.latenciesMs),
  };
}

function sum(record) {
  return Object.values(record).reduce((a, b) => a + b, 0);
}

process.on('message', (msg) => {
  if (msg?.type !== 'run') return;
  const run = msg.spec.mode === 'open' ? runOpen : runClosed;
  run(msg.spec).then(
    (result) => process.send?.({ type: 'result', id: msg.id, result }),
    (err) => process.send?.({ type: 'error', id: msg.id, message: err instanceof Error ? err.stack : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
