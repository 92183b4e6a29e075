// npm run bench: our ext_authz service against a null ext_authz server, same load, same machine, alternating.
// See docs/bench.md for what is measured and how to read it. Everything binds to 127.0.0.1; every child is
// stopped at the end, on error and on Ctrl-C.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { formatTop, topSelfTime } from './lib/cpu-profile.mjs';
import { installCleanup, memoryOf, stopAll } from './lib/processes.mjs';
import { REPO_ROOT } from './lib/proto.mjs';
import { printReport, finalLine } from './lib/report.mjs';
import { checkOutcome, mintScenarioTokens, scenarioList } from './lib/scenarios.mjs';
import { cpuSecondsOf, envNumber, gcProbeOptions, liveMemoryOf, metricsDelta, prepareWorld, scrapeMetrics, startGenerator, startNull, startOurs, stopOurs } from './lib/setup.mjs';
import { median } from './lib/stats.mjs';

const cfg = {
  seconds: envNumber('BENCH_SECONDS', 3),
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 1),
  initialWarmupSeconds: envNumber('BENCH_INITIAL_WARMUP_SECONDS', 4),
  latencySeconds: envNumber('BENCH_LATENCY_SECONDS', envNumber('BENCH_SECONDS', 3)),
  rounds: Math.max(1, envNumber('BENCH_ROUNDS', 3)),
  channels: Math.max(1, envNumber('BENCH_CHANNELS', 4)),
  concurrency: Math.max(1, envNumber('BENCH_CONCURRENCY', 16)),
  latencyFraction: envNumber('BENCH_LATENCY_FRACTION', 0.5),
  distinct: envNumber('BENCH_DISTINCT_TOKENS', 10_000),
  memory: envNumber('BENCH_MEMORY_TOKENS', 100_000),
  invalid: envNumber('BENCH_INVALID_TOKENS', 999),
  profile: process.env.BENCH_PROFILE === '1',
  profileSeconds: envNumber('BENCH_PROFILE_SECONDS', 5),
};
const OUT = join(REPO_ROOT, 'bench', 'out');

installCleanup();
main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(`bench: FAILED: ${err instanceof Error ? err.stack : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);

async function main() {
  const started = Date.now();
  mkdirSync(OUT, { recursive: true });
  // Other work on the machine skews every figure: the load average is printed at the start and the end.
  console.log(`bench: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, service=${process.env.BENCH_SERVICE ?? 'dist'}, client=${process.env.BENCH_CLIENT ?? 'http2'}`);
  console.log(`bench: ${JSON.stringify(cfg)}`);
  const world = await prepareWorld();
  try {
    const mintStart = Date.now();
    const files = await mintScenarioTokens(world.dir, world.issuers, cfg);
    const sizes = Object.entries(files).map(([k, f]) => `${k} ${f.count}×${f.avgBytes.toFixed(0)} B`);
    console.log(`bench: minted tokens in ${((Date.now() - mintStart) / 1000).toFixed(1)} s (${sizes.join(', ')}); policies: ${world.written.authorizationPolicies} AuthorizationPolicies + 1 RequestAuthentication (3 issuers)`);
    const probe = gcProbeOptions(world.dir);
    const targets = { null: await startNull(), ours: await startOurs({ policiesDir: world.policiesDir, nodeArgs: probe.nodeArgs, env: probe.env }) };
    const gen = await startGenerator();
    const scenarios = scenarioList(files);
    const results = { cfg, loadAverageAtStart: loadavg(), throughput: {}, latency: {}, rss: {}, memory: undefined, failures: [], warnings: [], profiles: {} };
    const fail = (what, problems) => {
      const line = `bench: SCENARIO FAILED ${what}: ${problems.join('; ')}`;
      console.error(line);
      results.failures.push(line);
    };

    // 0. JIT warm-up of both servers and the generator on every scenario, not measured.
    for (const s of scenarios) {
      for (const name of ['null', 'ours']) await gen.run({ ...closedSpec(s, targets[name]), seconds: cfg.initialWarmupSeconds / scenarios.length, warmupSeconds: 0 });
    }

    // 1. Max throughput, closed loop, targets alternating (order flipped every round).
    for (let round = 0; round < cfg.rounds; round++) {
      for (const s of scenarios) {
        for (const name of round % 2 === 0 ? ['null', 'ours'] : ['ours', 'null']) {
          const t = targets[name];
          const cpu0 = cpuSecondsOf(t.pid);
          const gen0 = cpuSecondsOf(gen.child.pid);
          const m0 = name === 'ours' ? await scrapeMetrics(t.httpUrl) : undefined;
          const r = await gen.run(closedSpec(s, t));
          r.metrics = name === 'ours' ? metricsDelta(m0, await scrapeMetrics(t.httpUrl)) : undefined;
          const calls = r.completed + (r.warmup?.completed ?? 0);
          r.cpuUsPerCall = ((cpuSecondsOf(t.pid) - cpu0) * 1e6) / calls;
          r.generatorCpuPct = (100 * (cpuSecondsOf(gen.child.pid) - gen0)) / (r.elapsedSec + cfg.warmupSeconds);
          const problems = checkOutcome(s, name, r);
          if (problems.length > 0) fail(`${s.id} ${name} round ${round + 1}`, problems);
          ((results.throughput[s.id] ??= { null: [], ours: [] })[name]).push(r);
          const hit = r.metrics === undefined || Number.isNaN(r.metrics.cacheHitRatio) ? '' : `  token cache hits ${(100 * r.metrics.cacheHitRatio).toFixed(0)}%`;
          console.log(`bench: round ${round + 1} ${s.id} ${name.padEnd(4)} ${r.rps.toFixed(0).padStart(6)} req/s  p99 ${r.latency.p99.toFixed(2)} ms  cpu ${r.cpuUsPerCall.toFixed(0)} µs/call  gen ${r.generatorCpuPct.toFixed(0)}%${hit}`);
          if (round === cfg.rounds - 1) results.rss[s.id] = { ...results.rss[s.id], [name]: memoryOf(t.pid) };
        }
      }
    }

    // 2. Latency at a fixed, moderate rate: a share of the null server's median max rate for that scenario.
    for (const s of scenarios) {
      const rate = Math.max(1, Math.round(cfg.latencyFraction * median(results.throughput[s.id].null.map((r) => r.rps))));
      for (let round = 0; round < cfg.rounds; round++) {
        for (const name of round % 2 === 0 ? ['null', 'ours'] : ['ours', 'null']) {
          const m0 = name === 'ours' ? await scrapeMetrics(targets[name].httpUrl) : undefined;
          const r = await gen.run({ ...baseSpec(s, targets[name]), mode: 'open', rate, seconds: cfg.latencySeconds });
          r.metrics = name === 'ours' ? metricsDelta(m0, await scrapeMetrics(targets[name].httpUrl)) : undefined;
          const problems = checkOutcome(s, name, r);
          // An overloaded run queues for seconds: client deadlines and the service's fail-closed answers to checks
          // that ran out of time are expected there, and are reported, not counted as wrong outcomes.
          if (problems.length > 0 && r.rps < 0.97 * rate) {
            const line = `bench: warning: ${s.id} ${name} latency round ${round + 1} overloaded: ${problems.join('; ')}; reasons ${JSON.stringify(r.metrics?.reasons ?? {})}`;
            console.log(line);
            results.warnings.push(line);
          } else if (problems.length > 0) fail(`${s.id} ${name} latency round ${round + 1}`, problems);
          ((results.latency[s.id] ??= { rate, null: [], ours: [] })[name]).push(r);
          console.log(`bench: latency ${s.id} ${name.padEnd(4)} @${rate}/s  p50 ${r.latency.p50.toFixed(2)} ms  p99 ${r.latency.p99.toFixed(2)} ms  achieved ${r.rps.toFixed(0)}/s${r.dropped > 0 ? `  dropped ${r.dropped}` : ''}${r.rps < 0.97 * rate ? '  OVERLOADED' : ''}`);
        }
      }
    }

    // 2b. Where the fixed rate was more than our service could take, its latency measured a queue: measure it
    // once more at half of our own max rate, so there is a latency figure for that path too.
    for (const s of scenarios) {
      const l = results.latency[s.id];
      if (!l.ours.some((r) => r.rps < 0.97 * l.rate)) continue;
      const rate = Math.max(1, Math.round(0.5 * median(results.throughput[s.id].ours.map((r) => r.rps))));
      const r = await gen.run({ ...baseSpec(s, targets.ours), mode: 'open', rate, seconds: cfg.latencySeconds });
      const problems = checkOutcome(s, 'ours', r);
      if (problems.length > 0) fail(`${s.id} ours latency at own rate`, problems);
      l.oursAtOwnRate = { rate, result: r };
      console.log(`bench: latency ${s.id} ours @${rate}/s (half its own max)  p50 ${r.latency.p50.toFixed(2)} ms  p99 ${r.latency.p99.toFixed(2)} ms  achieved ${r.rps.toFixed(0)}/s`);
    }

    // 3. Memory: every one of the distinct tokens once through our service, RSS before and after.
    if (files.memory !== undefined) {
      const s = { id: 'e', title: `(e) ${files.memory.count} distinct tokens once`, tokens: files.memory.file, path: scenarios[0].path, expect: 'ok', okHeader: 'x-jwt-sub' };
      const liveBefore = await liveMemoryOf(targets.ours, probe.file);
      const before = memoryOf(targets.ours.pid);
      const m0 = await scrapeMetrics(targets.ours.httpUrl);
      const cpu0 = cpuSecondsOf(targets.ours.pid);
      const oursRun = await gen.run({ ...closedSpec(s, targets.ours), once: true, warmupSeconds: 0 });
      oursRun.cpuUsPerCall = ((cpuSecondsOf(targets.ours.pid) - cpu0) * 1e6) / oursRun.completed;
      const after = memoryOf(targets.ours.pid);
      oursRun.metrics = metricsDelta(m0, await scrapeMetrics(targets.ours.httpUrl));
      const liveAfter = await liveMemoryOf(targets.ours, probe.file);
      // Live heap per cached verification: heap growth after full GCs over the growth of the token cache.
      const live = liveBefore === undefined || liveAfter === undefined ? undefined : { before: liveBefore, after: liveAfter, bytesPerEntry: oursRun.metrics === undefined ? NaN : ((liveAfter.heapUsedMb - liveBefore.heapUsedMb) * 2 ** 20) / (oursRun.metrics.cacheEntries - m0.cacheEntries) };
      const nullCpu0 = cpuSecondsOf(targets.null.pid);
      const nullRun = await gen.run({ ...closedSpec(s, targets.null), seconds: cfg.seconds });
      nullRun.cpuUsPerCall = ((cpuSecondsOf(targets.null.pid) - nullCpu0) * 1e6) / (nullRun.completed + (nullRun.warmup?.completed ?? 0));
      for (const [name, r] of [['ours', oursRun], ['null', nullRun]]) {
        const problems = checkOutcome(s, name, r);
        if (problems.length > 0) fail(`e ${name}`, problems);
      }
      results.memory = { scenario: s, before, after, live, ours: oursRun, null: nullRun, nullRss: memoryOf(targets.null.pid) };
      const mm = oursRun.metrics;
      const cacheNote = mm === undefined ? '' : `; token cache ${mm.cacheEntries} entries, heap used ${mm.heapUsedMb.toFixed(0)} MiB`;
      console.log(`bench: memory e ours ${oursRun.rps.toFixed(0)} req/s over ${oursRun.completed} unique tokens, RSS ${before.rssMb.toFixed(0)} → ${after.rssMb.toFixed(0)} MiB (peak ${after.hwmMb.toFixed(0)})${cacheNote}`);
      if (live !== undefined) console.log(`bench: memory e after full GC: heap ${live.before.heapUsedMb.toFixed(0)} → ${live.after.heapUsedMb.toFixed(0)} MiB, RSS ${live.after.rssMb.toFixed(0)} MiB, ≈ ${(live.bytesPerEntry / 1024).toFixed(1)} KiB live heap per cached token`);
    }
    results.jwksFetches = { ...world.jwks.fetches };

    // 4. Optional CPU profiles of our service under (a) and (b), each in a fresh process.
    if (cfg.profile) {
      await stopOurs(targets.ours);
      for (const s of scenarios.filter((x) => x.id === 'a' || x.id === 'b')) {
        const dir = join(OUT, 'profiles');
        mkdirSync(dir, { recursive: true });
        const fileName = `ours-${s.id}-${Date.now()}.cpuprofile`;
        const ours = await startOurs({ policiesDir: world.policiesDir, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${fileName}`], name: `ours-profile-${s.id}` });
        await gen.run({ ...closedSpec(s, ours), seconds: cfg.profileSeconds });
        await stopOurs(ours, 30_000);
        try {
          const summary = topSelfTime(join(dir, fileName), 15);
          results.profiles[s.id] = { file: join(dir, fileName), ...summary };
        } catch (err) {
          console.error(`bench: no CPU profile for ${s.id} (${err instanceof Error ? err.message : String(err)}); does the service exit cleanly on SIGTERM?`);
        }
      }
      for (const [id, p] of Object.entries(results.profiles)) {
        console.log(`\nCPU profile, scenario (${id}), top 15 self time: ${p.file}`);
        for (const line of formatTop(p)) console.log(line);
      }
    }

    const file = join(OUT, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    printReport(results, scenarios);
    console.log(`bench: full results in ${file}; total ${((Date.now() - started) / 1000).toFixed(0)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    if (results.warnings.length > 0) console.log(`bench: ${results.warnings.length} warnings (overloaded latency runs, see above)`);
    if (results.failures.length > 0) console.log(`bench: ${results.failures.length} scenario checks FAILED (see above)`);
    console.log(finalLine(results));
    return results.failures.length > 0 ? 1 : 0;
  } finally {
    await stopAll(10_000);
    await world.cleanup();
  }
}

function baseSpec(s, target) {
  return { address: target.address, channels: cfg.channels, concurrency: cfg.concurrency, tokens: s.tokens, path: s.path, ...(target.name === 'null' ? {} : { okHeader: s.okHeader }) };
}

function closedSpec(s, target) {
  return { ...baseSpec(s, target), mode: 'closed', seconds: cfg.seconds, warmupSeconds: cfg.warmupSeconds };
}
