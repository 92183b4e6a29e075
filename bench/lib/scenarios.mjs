// The bench scenarios, their token files and the outcome each must produce.
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { readFileSync } from 'node:fs';
import { AUDIENCE, mintTokenFile } from './issuers.mjs';
import { PATHS } from './policies.mjs';

/**
 * Mints every token file the scenarios need into `dir` (not measured) and checks one token per issuer with jose.
 * @returns {Promise<Record<string, { file: string, count: number, avgBytes: number }>>}
 */
export async function mintScenarioTokens(dir, issuers, { distinct, memory, invalid }) {
  const issuerA = issuers.filter((i) => i.id === 'a');
  const plan = [
    // (a) one RS256 token of issuer A, repeated.
    { name: 'cached', issuers: issuerA, count: 1, firstSubject: 0 },
    // (b) distinct valid tokens, issuers A/B/C interleaved, cycled.
    { name: 'distinct', issuers, count: distinct, firstSubject: 1_000_000 },
    // (c) well-formed tokens with a valid kid and another token's signature.
    { name: 'invalid', issuers, count: invalid, firstSubject: 2_000_000, variant: 'bad-signature' },
    // (e) distinct tokens, each sent once, for memory.
    { name: 'memory', issuers, count: memory, firstSubject: 3_000_000 },
  ];
  const files = {};
  for (const p of plan) {
    if (p.count === 0) continue;
    const file = join(dir, `tokens-${p.name}.txt`);
    const avgBytes = await mintTokenFile(file, p);
    files[p.name] = { file, count: p.count, avgBytes };
  }
  await checkSample(files.distinct?.file ?? files.cached.file, issuers);
  return files;
}

/** The first tokens of a file (issuers interleaved) must verify with jose against the issuers' published keys. */
async function checkSample(file, issuers) {
  const tokens = readFileSync(file, 'utf8').split('\n').slice(0, issuers.length);
  for (const token of tokens) {
    const iss = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).iss;
    const issuer = issuers.find((i) => i.iss === iss);
    await jwtVerify(token, createLocalJWKSet({ keys: issuer.keys.map((k) => k.publicJwk) }), { issuer: iss, audience: AUDIENCE });
  }
}

/** Throughput/latency scenarios (a)–(d). `expect` applies to our service; the null server always answers OK. */
export function scenarioList(files) {
  return [
    { id: 'a', title: '(a) one token repeated (cache hits)', tokens: files.cached.file, path: PATHS.protected, expect: 'ok', okHeader: 'x-jwt-sub' },
    { id: 'b', title: `(b) ${files.distinct?.count ?? 0} distinct tokens cycling`, tokens: files.distinct?.file, path: PATHS.protected, expect: 'ok', okHeader: 'x-jwt-sub' },
    { id: 'c', title: '(c) bad signature', tokens: files.invalid?.file, path: PATHS.protected, expect: 401 },
    { id: 'd', title: '(d) no token, exempt path', tokens: null, path: PATHS.exempt, expect: 'ok' },
  ].filter((s) => s.tokens !== undefined);
}

/**
 * Compares a generator result (measured part and warm-up) with the scenario's expected outcome.
 * @returns {string[]} problems; empty when every response was the expected one
 */
export function checkOutcome(scenario, target, result) {
  const parts = [result, result.warmup].filter((p) => p !== undefined);
  const ok = parts.reduce((a, p) => a + p.ok, 0);
  const missing = parts.reduce((a, p) => a + p.okMissingHeader, 0);
  const denied = mergeCounts(parts.map((p) => p.denied));
  const errors = mergeCounts(parts.map((p) => p.errors));
  const completed = parts.reduce((a, p) => a + p.completed, 0);
  const problems = [];
  if (completed === 0) problems.push('no responses at all');
  if (Object.keys(errors).length > 0) problems.push(`gRPC errors ${JSON.stringify(errors)}`);
  const expect = target === 'null' ? 'ok' : scenario.expect;
  if (expect === 'ok') {
    if (Object.keys(denied).length > 0) problems.push(`expected 100% OK, got ${ok} OK and denials ${JSON.stringify(denied)}`);
    if (target !== 'null' && scenario.okHeader !== undefined && missing > 0) {
      problems.push(`${missing} OK responses without the ${scenario.okHeader} header`);
    }
  } else {
    const wrong = completed - (denied[expect] ?? 0) - sum(errors);
    if (wrong > 0) problems.push(`expected 100% ${expect}, got ${ok} OK and denials ${JSON.stringify(denied)}`);
  }
  return problems;
}

function mergeCounts(list) {
  const out = {};
  for (const c of list) for (const [k, v] of Object.entries(c ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sum(record) {
  return Object.values(record).reduce((a, b) => a + b, 0);
}
