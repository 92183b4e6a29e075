// Preloaded into our service by the bench only (`node --expose-gc --import <this>`): on SIGUSR2, run a full GC
// and write process.memoryUsage() to BENCH_GC_PROBE_FILE, so the bench can tell live heap from garbage.
// It adds a signal handler and nothing else; the service's code is untouched.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_GC_PROBE_FILE;
if (file !== undefined && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    globalThis.gc();
    writeFileSync(file, JSON.stringify({ ...process.memoryUsage(), at: Date.now() }));
  });
}
