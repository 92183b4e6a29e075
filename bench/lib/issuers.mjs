// Three issuers with keys generated per run (jose), a loopback JWKS server for the remote ones, and token minting
// in worker threads (minting is never part of a measurement).
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { exportJWK, generateKeyPair } from 'jose';

/** Audience every issuer puts in its tokens and the RequestAuthentication requires. */
export const AUDIENCE = 'shop-api';

const ISSUER_SPECS = [
  { id: 'a', iss: 'https://issuer-a.bench.example', alg: 'RS256', keys: 'inline' },
  { id: 'b', iss: 'https://issuer-b.bench.example', alg: 'RS256', keys: 'remote' },
  { id: 'c', iss: 'https://issuer-c.bench.example', alg: 'ES256', keys: 'remote' },
];

/** A signing key: kid, alg, private JWK (for workers) and public JWK (for the JWKS). */
export async function generateSigningKey(alg, kid) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  return { kid, alg, privateJwk, publicJwk };
}

/**
 * Issuer A (inline JWKS, RS256), B (remote, RS256), C (remote, ES256).
 * Each has `keys` (published, newest last) and `signing` (the key new tokens are signed with).
 */
export async function createIssuers() {
  const issuers = [];
  for (const spec of ISSUER_SPECS) {
    const key = await generateSigningKey(spec.alg, `${spec.id}-1`);
    issuers.push({ ...spec, keys: [key], signing: key, keySource: spec.keys, generation: 1 });
  }
  return issuers;
}

/** `{"keys":[…]}` of an issuer's published public keys. */
export function jwksOf(issuer) {
  return JSON.stringify({ keys: issuer.keys.map((k) => k.publicJwk) });
}

/**
 * Serves `/<issuer id>/jwks.json` for the remote issuers on 127.0.0.1, reading the issuers' current keys on every
 * request (so rotation is a mutation of `issuer.keys`). Counts fetches per issuer and keeps the time of the last.
 */
export function startJwksServer(issuers) {
  const fetches = Object.fromEntries(issuers.map((i) => [i.id, 0]));
  /** Time (Date.now()) of each issuer's latest JWKS fetch, and of all of them (seconds since the server started). */
  const lastFetchAt = Object.fromEntries(issuers.map((i) => [i.id, 0]));
  const fetchTimes = Object.fromEntries(issuers.map((i) => [i.id, []]));
  const startedAt = Date.now();
  const server = createServer((req, res) => {
    const m = /^\/([a-z])\/jwks\.json$/.exec(req.url ?? '');
    const issuer = m === null ? undefined : issuers.find((i) => i.id === m[1] && i.keySource === 'remote');
    if (req.method !== 'GET' || issuer === undefined) {
      res.writeHead(404).end();
      return;
    }
    fetches[issuer.id] += 1;
    lastFetchAt[issuer.id] = Date.now();
    fetchTimes[issuer.id].push(Math.round((Date.now() - startedAt) / 100) / 10);
    const body = jwksOf(issuer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      const base = `http://127.0.0.1:${port}`;
      resolve({
        server,
        fetches,
        lastFetchAt,
        fetchTimes,
        uriOf: (issuer) => `${base}/${issuer.id}/jwks.json`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

/**
 * Mints `count` tokens, round-robin over `issuers` (their current signing keys), interleaved by issuer.
 * `variant: 'bad-signature'` swaps each token's signature with the next one's of the same issuer: well-formed,
 * right kid, wrong signature.
 * @returns {Promise<string[]>}
 */
export async function mintTokens({ issuers, count, firstSubject = 0, variant = 'valid', lifetimeSec = 3600 }) {
  const workers = Math.max(1, Math.min(availableParallelism(), 4));
  const perIssuer = issuers.map(() => []);
  const jobs = [];
  // Split each issuer's share over the workers.
  issuers.forEach((issuer, ii) => {
    const share = Math.floor(count / issuers.length) + (ii < count % issuers.length ? 1 : 0);
    const chunk = Math.ceil(share / workers);
    for (let w = 0; w < workers && w * chunk < share; w++) {
      const n = Math.min(chunk, share - w * chunk);
      jobs.push({ ii, start: w * chunk, n, issuer });
    }
  });
  const results = await runPool(workers, jobs, (job) => ({
    privateJwk: job.issuer.signing.privateJwk,
    alg: job.issuer.signing.alg,
    kid: job.issuer.signing.kid,
    iss: job.issuer.iss,
    aud: AUDIENCE,
    // Subjects are unique per issuer and range: user-<issuer>-<n>.
    subjectPrefix: `user-${job.issuer.id}-`,
    first: firstSubject + job.start,
    count: job.n,
    lifetimeSec,
  }));
  jobs.forEach((job, j) => perIssuer[job.ii].push(...results[j]));
  if (variant === 'bad-signature') {
    for (const list of perIssuer) {
      if (list.length < 2) throw new Error('bad-signature tokens need at least two tokens per issuer');
      const sigs = list.map((t) => t.slice(t.lastIndexOf('.') + 1));
      for (let i = 0; i < list.length; i++) {
        const t = list[i];
        list[i] = `${t.slice(0, t.lastIndexOf('.') + 1)}${sigs[(i + 1) % sigs.length]}`;
      }
    }
  }
  const out = [];
  const longest = Math.max(0, ...perIssuer.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const list of perIssuer) if (i < list.length) out.push(list[i]);
  return out;
}

/**
 * `mintTokens` into `file`, one token per line.
 * @returns {Promise<number>} average token length
 */
export async function mintTokenFile(file, options) {
  const out = await mintTokens(options);
  writeFileSync(file, `${out.join('\n')}\n`);
  return out.reduce((a, t) => a + t.length, 0) / Math.max(1, out.length);
}

async function runPool(size, jobs, toMessage) {
  const results = new Array(jobs.length);
  let next = 0;
  const workerUrl = new URL('./mint-worker.mjs', import.meta.url);
  const runOne = async () => {
    const worker = new Worker(workerUrl);
    try {
      while (next < jobs.length) {
        const j = next++;
        results[j] = await new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.postMessage(toMessage(jobs[j]));
        });
        worker.removeAllListeners('error');
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, jobs.length) }, runOne));
  return results;
}
