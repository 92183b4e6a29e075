// The bench's human table (Markdown, pasteable into docs/bench.md) and its machine-readable last line.
import { fmt, median } from './stats.mjs';

function pct(value) {
  return Number.isFinite(value) ? `${value.toFixed(0)}%` : '-';
}

function med(list, pick) {
  return median((list ?? []).map(pick));
}

/** Median figures per scenario: throughput, CPU per call, latency at the fixed rate, RSS after. */
export function summarizeScenario(results, id) {
  const t = results.throughput[id];
  const l = results.latency[id];
  const nullRps = med(t?.null, (r) => r.rps);
  const oursRps = med(t?.ours, (r) => r.rps);
  const row = {
    nullRps,
    oursRps,
    ratio: oursRps / nullRps,
    nullCpuUs: med(t?.null, (r) => r.cpuUsPerCall),
    oursCpuUs: med(t?.ours, (r) => r.cpuUsPerCall),
    generatorCpuPct: med(t?.null, (r) => r.generatorCpuPct),
    rate: l?.rate,
    nullP50: med(l?.null, (r) => r.latency.p50),
    nullP99: med(l?.null, (r) => r.latency.p99),
    oursP50: med(l?.ours, (r) => r.latency.p50),
    oursP99: med(l?.ours, (r) => r.latency.p99),
    oursAchieved: med(l?.ours, (r) => r.rps),
    rssMb: results.rss[id]?.ours?.rssMb,
    cacheHitPct: 100 * med(t?.ours, (r) => r.metrics?.cacheHitRatio ?? NaN),
  };
  // Overloaded: the fixed rate was more than our service could take (its latency then measures a queue).
  row.overloaded = l !== undefined && (l.ours.some((r) => r.dropped > 0) || row.oursAchieved < 0.97 * (l.rate ?? 0));
  return row;
}

/** Prints the results table and notes. */
export function printReport(results, scenarios) {
  const lines = [
    '',
    '| scenario | null req/s | ours req/s | ours/null | CPU µs/call null / ours | token cache hits | fixed rate | null p50 / p99 ms | ours p50 / p99 ms | ours RSS after |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of scenarios) {
    const r = summarizeScenario(results, s.id);
    lines.push(
      `| ${s.title} | ${fmt(r.nullRps)} | ${fmt(r.oursRps)} | ${fmt(r.ratio, 2)} | ${fmt(r.nullCpuUs)} / ${fmt(r.oursCpuUs)} | ${pct(r.cacheHitPct)} | ${fmt(r.rate)}/s${r.overloaded ? ' (overloaded)' : ''} | ${fmt(r.nullP50, 2)} / ${fmt(r.nullP99, 2)} | ${fmt(r.oursP50, 2)} / ${fmt(r.oursP99, 2)} | ${fmt(r.rssMb)} MiB |`,
    );
  }
  const m = results.memory;
  if (m !== undefined) {
    lines.push(
      `| ${m.scenario.title} | ${fmt(m.null.rps)} | ${fmt(m.ours.rps)} | ${fmt(m.ours.rps / m.null.rps, 2)} | ${fmt(m.null.cpuUsPerCall)} / ${fmt(m.ours.cpuUsPerCall)} | ${pct(100 * (m.ours.metrics?.cacheHitRatio ?? NaN))} | - | - | - | ${fmt(m.after.rssMb)} MiB (before ${fmt(m.before.rssMb)}, peak ${fmt(m.after.hwmMb)}) |`,
    );
  }
  lines.push('');
  for (const s of scenarios) {
    const own = results.latency[s.id]?.oursAtOwnRate;
    if (own === undefined) continue;
    lines.push(`${s.title}: the fixed rate overloaded our service; at ${own.rate}/s (half its own max) ours p50 / p99 = ${fmt(own.result.latency.p50, 2)} / ${fmt(own.result.latency.p99, 2)} ms.`);
  }
  const gen = median(scenarios.map((s) => summarizeScenario(results, s.id).generatorCpuPct));
  lines.push(`Load generator CPU while driving the null server: ${fmt(gen)}% of one core (near 100% means the null figures are generator-bound).`);
  if (m?.ours.metrics !== undefined) {
    lines.push(`After (e): token cache ${fmt(m.ours.metrics.cacheEntries)} entries, heap used ${fmt(m.ours.metrics.heapUsedMb)} MiB of RSS ${fmt(m.after.rssMb)} MiB.`);
    if (m.live !== undefined) {
      lines.push(`After a full GC: heap ${fmt(m.live.after.heapUsedMb)} MiB live (${fmt(m.live.before.heapUsedMb)} before (e)), RSS ${fmt(m.live.after.rssMb)} MiB; ≈ ${fmt(m.live.bytesPerEntry / 1024, 1)} KiB of live heap per cached token.`);
    }
  }
  lines.push(`JWKS fetches during the run: ${JSON.stringify(results.jwksFetches ?? {})}; null server RSS ${fmt(results.memory?.nullRss?.rssMb)} MiB.`);
  for (const line of lines) console.log(line);
}

/** `bench: cached_ratio=<x> distinct_ratio=<y> p99_ms=<z> rss_mb=<w>` (p99_ms = ours − null p99 at the fixed rate, scenario a). */
export function finalLine(results) {
  const a = summarizeScenario(results, 'a');
  const b = summarizeScenario(results, 'b');
  const rss = results.memory?.after?.rssMb ?? results.rss.a?.ours?.rssMb;
  return `bench: cached_ratio=${fmt(a.ratio, 3)} distinct_ratio=${fmt(b.ratio, 3)} p99_ms=${fmt(a.oursP99 - a.nullP99, 3)} rss_mb=${fmt(rss, 1)}`;
}
