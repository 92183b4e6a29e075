// npm run soak (not in CI): SOAK_MINUTES of fixed-rate load on our service with rotating tokens, JWKS key rotation
// for the remote issuers (a new key published and signed with every SOAK_ROTATE_SECONDS, the old one removed
// SOAK_REMOVE_AFTER_SECONDS later) and 1 % garbage tokens. Every request carries its expected outcome; the run fails
// on any allow of a token that must be denied, or on any gRPC error. RSS is sampled every segment.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAttacker, mintGarbage } from './lib/garbage.mjs';
import { generateSigningKey, mintTokens } from './lib/issuers.mjs';
import { PATHS } from './lib/policies.mjs';
import { installCleanup, memoryOf, stopAll } from './lib/processes.mjs';
import { REPO_ROOT } from './lib/proto.mjs';
import { envNumber, prepareWorld, startGenerator, startOurs } from './lib/setup.mjs';
import { fmt, slope } from './lib/stats.mjs';

const cfg = {
  minutes: envNumber('SOAK_MINUTES', 5),
  segmentSeconds: envNumber('SOAK_SEGMENT_SECONDS', 10),
  rotateSeconds: envNumber('SOAK_ROTATE_SECONDS', 60),
  removeAfterSeconds: envNumber('SOAK_REMOVE_AFTER_SECONDS', 30),
  /** 0 = the service's default refresh interval. */
  jwksRefreshSeconds: envNumber('SOAK_JWKS_REFRESH_SECONDS', 0),
  rate: envNumber('SOAK_RATE', 0),
  rateFraction: envNumber('SOAK_RATE_FRACTION', 0.5),
  tokensPerSegment: envNumber('SOAK_TOKENS_PER_SEGMENT', 6000),
  garbageFraction: envNumber('SOAK_GARBAGE_FRACTION', 0.01),
  oldKeyFraction: envNumber('SOAK_OLD_KEY_FRACTION', 0.005),
  /** RSS slope is fitted after this (the token cache fills first). */
  warmupMinutes: envNumber('SOAK_WARMUP_MINUTES', Math.min(2, envNumber('SOAK_MINUTES', 5) / 2)),
  channels: envNumber('BENCH_CHANNELS', 4),
  concurrency: envNumber('BENCH_CONCURRENCY', 16),
};

if (cfg.removeAfterSeconds < cfg.segmentSeconds) throw new Error('SOAK_REMOVE_AFTER_SECONDS must be at least SOAK_SEGMENT_SECONDS');
installCleanup();
main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(`soak: FAILED: ${err instanceof Error ? err.stack : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);

async function main() {
  console.log(`soak: ${JSON.stringify(cfg)}`);
  const world = await prepareWorld();
  try {
    const attacker = await createAttacker();
    const remote = world.issuers.filter((i) => i.keySource === 'remote');
    /** Keys that signed once and were (or will be) unpublished: `{ issuer, key, removeAt, removedAt, removedAtMs }`. */
    const retired = [];
    const env = cfg.jwksRefreshSeconds > 0 ? { AUTHZ_JWKS_REFRESH: `${cfg.jwksRefreshSeconds}s` } : {};
    const ours = await startOurs({ policiesDir: world.policiesDir, env });
    const gen = await startGenerator();
    let subject = 0;

    let nextRotation = cfg.rotateSeconds;
    /**
     * Builds the token mix for a segment starting at `t` seconds, each line with its expected outcome. A rotation due
     * at `t` creates the new keys here; they are published when the segment starts and sign its tokens from the
     * first request on (no publish-ahead), while the previous keys stay published until `removeAt`.
     */
    const buildSegment = async (t, index) => {
      const publish = [];
      if (t >= nextRotation) {
        for (const issuer of remote) {
          issuer.generation += 1;
          const key = await generateSigningKey(issuer.alg, `${issuer.id}-${issuer.generation}`);
          retired.push({ issuer, key: issuer.signing, removeAt: t + cfg.removeAfterSeconds, removedAt: undefined });
          publish.push({ issuer, key });
        }
        nextRotation += cfg.rotateSeconds;
      }
      const signingAt = (issuer) => ({ ...issuer, signing: publish.find((p) => p.issuer === issuer)?.key ?? issuer.signing });
      const valid = await mintTokens({ issuers: world.issuers.map(signingAt), count: cfg.tokensPerSegment, firstSubject: subject });
      subject += cfg.tokensPerSegment;
      const garbage = await mintGarbage(Math.round(cfg.tokensPerSegment * cfg.garbageFraction), { issuers: world.issuers, attacker, validSamples: valid.slice(0, 50), firstSubject: subject });
      const lines = valid.map((tk) => `ok\t${tk}`);
      for (const g of garbage) lines.splice(Math.floor(Math.random() * lines.length), 0, `deny\t${g}`);
      // Tokens still signed with a retired key: fine while published, must fail once the service has refreshed.
      for (const r of retired.slice(-2 * remote.length)) {
        const n = Math.max(1, Math.round(cfg.tokensPerSegment * cfg.oldKeyFraction));
        const old = await mintTokens({ issuers: [{ ...r.issuer, signing: r.key }], count: n, firstSubject: subject });
        // Must fail once the service has fetched the issuer's JWKS after the removal (security.md §2.3: cached
        // verifications of that key are invalid from then on). The segment starts after this build, so the
        // fetch has been applied by then.
        const end = t + cfg.segmentSeconds;
        const refetched = r.removedAtMs !== undefined && world.jwks.lastFetchAt[r.issuer.id] > r.removedAtMs;
        const expect = end < r.removeAt ? 'ok' : refetched ? 'deny' : 'any';
        for (const tk of old) lines.splice(Math.floor(Math.random() * lines.length), 0, `${expect}\t${tk}`);
      }
      const file = join(world.dir, `soak-${index}.txt`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return { file, publish };
    };

    const spec = (file) => ({ address: ours.address, channels: cfg.channels, concurrency: cfg.concurrency, tokens: file, path: PATHS.protected });
    let rate = cfg.rate;
    if (rate === 0) {
      const probe = await gen.run({ ...spec((await buildSegment(0, 'probe')).file), mode: 'closed', seconds: 5, warmupSeconds: 1 });
      rate = Math.max(10, Math.round(cfg.rateFraction * probe.rps));
      console.log(`soak: max ${probe.rps.toFixed(0)} req/s with the token mix, soaking at ${rate} req/s`);
    }

    const totalSec = cfg.minutes * 60;
    const samples = [];
    const totals = { requests: 0, allowShouldDeny: 0, denyShouldAllow: 0, errors: {}, deniedGarbage: 0 };
    let nextFile = buildSegment(0, 0);
    const startedAt = Date.now();
    for (let index = 0; index * cfg.segmentSeconds < totalSec; index++) {
      const t = index * cfg.segmentSeconds;
      const segment = await nextFile;
      // Key changes due at this segment start: publish the new keys (the JWKS server reads them live) …
      for (const { issuer, key } of segment.publish) {
        issuer.keys.push(key);
        issuer.signing = key;
      }
      // … and unpublish keys whose grace period is over.
      for (const r of retired) {
        if (r.removedAt === undefined && t >= r.removeAt) {
          r.issuer.keys = r.issuer.keys.filter((k) => k.kid !== r.key.kid);
          r.removedAt = t;
          r.removedAtMs = Date.now();
        }
      }
      // Mint the next segment while this one runs.
      nextFile = buildSegment(t + cfg.segmentSeconds, index + 1);
      const r = await gen.run({ ...spec(segment.file), mode: 'open', rate, seconds: cfg.segmentSeconds });
      const mem = memoryOf(ours.pid);
      const e = r.byExpect;
      const sample = {
        t: (Date.now() - startedAt) / 1000,
        requests: r.completed,
        allowShouldDeny: e.deny?.ok ?? 0,
        denyShouldAllow: e.ok?.denied ?? 0,
        errors: r.errors,
        p99: r.latency.p99,
        rssMb: mem.rssMb,
        keys: remote.map((i) => i.keys.map((k) => k.kid).join('+')).join(' '),
      };
      samples.push(sample);
      totals.requests += r.completed;
      totals.allowShouldDeny += sample.allowShouldDeny;
      totals.denyShouldAllow += sample.denyShouldAllow;
      totals.deniedGarbage += e.deny?.denied ?? 0;
      for (const [k, v] of Object.entries(r.errors)) totals.errors[k] = (totals.errors[k] ?? 0) + v;
      console.log(
        `soak: t=${fmt(t).padStart(5)}s ${fmt(r.rps).padStart(5)}/s  allow-should-deny ${sample.allowShouldDeny}  deny-should-allow ${sample.denyShouldAllow}  errors ${JSON.stringify(r.errors)}  p99 ${fmt(r.latency.p99, 2)} ms  rss ${fmt(mem.rssMb)} MiB  keys ${sample.keys}`,
      );
    }
    await nextFile.catch(() => undefined);

    const afterWarmup = samples.filter((s) => s.t >= cfg.warmupMinutes * 60);
    const rssSlope = slope(afterWarmup.map((s) => [s.t / 60, s.rssMb]));
    const errorCount = Object.values(totals.errors).reduce((a, b) => a + b, 0);
    const summary = {
      cfg,
      rate,
      totals,
      rssMb: { first: samples[0]?.rssMb, last: samples.at(-1)?.rssMb, max: Math.max(...samples.map((s) => s.rssMb)), slopePerMinuteAfterWarmup: rssSlope },
      jwksFetches: { ...world.jwks.fetches },
      jwksFetchTimes: world.jwks.fetchTimes,
      rotations: retired.map((r) => ({ kid: r.key.kid, removedAtSec: r.removedAt })),
      samples,
    };
    const out = join(REPO_ROOT, 'bench', 'out');
    mkdirSync(out, { recursive: true });
    const file = join(out, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`soak: RSS over time (MiB): ${samples.map((s) => fmt(s.rssMb)).join(' ')}`);
    console.log(`soak: JWKS fetches ${JSON.stringify(summary.jwksFetches)} at s since start ${JSON.stringify(world.jwks.fetchTimes)}; full results in ${file}`);
    const failed = totals.allowShouldDeny > 0 || errorCount > 0;
    console.log(
      `soak: ${failed ? 'FAILED' : 'ok'} requests=${totals.requests} must_deny_denied=${totals.deniedGarbage} allow_should_deny=${totals.allowShouldDeny} deny_should_allow=${totals.denyShouldAllow} errors=${errorCount} rss_first_mb=${fmt(summary.rssMb.first, 1)} rss_last_mb=${fmt(summary.rssMb.last, 1)} rss_max_mb=${fmt(summary.rssMb.max, 1)} rss_slope_after_warmup_mb_per_min=${fmt(rssSlope, 2)}`,
    );
    return failed ? 1 : 0;
  } finally {
    await stopAll(10_000);
    await world.cleanup();
  }
}
