// Cost of each registered probe against this machine's real /proc and /sys.
// Usage: node dist/bench/probe-cost.js [iterations=200]   (bounded to 1..2000)
// Each probe is primed once (first calls fill caches: exe hashes, socket owners), then called
// back to back with a simulated 1 Hz clock (nowMs advances 1000 per call, so rates are computed and
// the sockets probe re-reads its tables as often as it would in production); the table shows
// wall-clock ms per collect() call.
import { performance } from 'node:perf_hooks';
import { defaultProbeConfig, isUnavailable, probeTable } from '../agent/probes/index.js';

const iterations = Math.min(2000, Math.max(1, Number(process.argv[2] ?? 200) || 200));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const rows: { probe: string; mean: number; p95: number; max: number; note: string }[] = [];
let totalMean = 0;
for (const { name, factory } of probeTable) {
  const probe = factory(defaultProbeConfig);
  const primeStart = performance.now();
  let nowMs = Date.now();
  const first = await probe.collect(nowMs);
  const primeMs = performance.now() - primeStart;
  const times: number[] = [];
  let last = first;
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    nowMs += 1000;
    last = await probe.collect(nowMs);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  totalMean += mean;
  const note = isUnavailable(last) ? `unavailable: ${last.unavailable}` : Object.keys(last).length === 0 ? 'empty (absent on this host)' : `first call ${primeMs.toFixed(2)} ms`;
  rows.push({ probe: name, mean, p95: percentile(times, 95), max: times[times.length - 1]!, note });
}

const fmt = (x: number): string => x.toFixed(3).padStart(9);
console.log(`probe cost, ${iterations} calls each (ms per call)`);
console.log(`${'probe'.padEnd(12)}${'mean'.padStart(9)}${'p95'.padStart(9)}${'max'.padStart(9)}  note`);
for (const r of rows) console.log(`${r.probe.padEnd(12)}${fmt(r.mean)}${fmt(r.p95)}${fmt(r.max)}  ${r.note}`);
console.log(`${'total'.padEnd(12)}${fmt(totalMean)}`);
