// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, biggest first.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from './proto.mjs';

/** Top `limit` functions by self time (`percent` of busy time), plus busy and idle sampled time. */
export function topSelfTime(file, limit = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  const grouped = new Map();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byNode.get(id)?.callFrame;
    if (frame === undefined) continue;
    // Idle time is the process waiting for work: leave it out of the ranking and the percentages.
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    totalUs += us;
    const name = frame.functionName || '(anonymous)';
    const location = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name} ${location}`;
    grouped.set(key, { name, location, us: (grouped.get(key)?.us ?? 0) + us });
  }
  const rows = [...grouped.values()].sort((a, b) => b.us - a.us).slice(0, limit);
  const areas = new Map();
  for (const g of grouped.values()) areas.set(areaOf(g), (areas.get(areaOf(g)) ?? 0) + g.us);
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    rows: rows.map((r) => ({ name: r.name, location: r.location, selfMs: r.us / 1000, percent: (100 * r.us) / totalUs })),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: us / 1000, percent: (100 * us) / totalUs })),
  };
}

/** Which part of the process a frame belongs to, for the per-area split. */
function areaOf({ name, location }) {
  if (location.startsWith('dist/')) return 'service (dist/)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(location);
  if (pkg !== null) return pkg[1];
  // node:internal/http2/core → node http2; node:events → node events.
  if (location.startsWith('node:')) return `node ${/^node:(?:internal\/)?([^/:]+)/.exec(location)?.[1] ?? 'internals'}`;
  if (name === '(garbage collector)') return 'GC';
  return `native ${name}`;
}

function shorten(url) {
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  return path.startsWith('/') ? relative(REPO_ROOT, path) : path;
}

/** The summary as printable lines. */
export function formatTop(summary) {
  const lines = [`  busy ${summary.totalMs.toFixed(0)} ms sampled (idle ${summary.idleMs.toFixed(0)} ms left out)`, '  self ms  % busy  function  (location)'];
  lines.push(`  by area: ${summary.areas.slice(0, 8).map((a) => `${a.area} ${a.percent.toFixed(0)}%`).join(', ')}`);
  for (const r of summary.rows) {
    lines.push(`  ${r.selfMs.toFixed(0).padStart(7)}  ${r.percent.toFixed(1).padStart(6)}%  ${r.name}  (${r.location || 'native'})`);
  }
  return lines;
}
