// Cost of each registered probe against this machine's real /proc and /sys.
// Usage: node dist/bench/probe-cost.js [iterations=200]   (bounded to 1..2000)
// Each probe is primed once (first calls fill caches: exe hashes, socket owners), then called
// back to back with a simulated 1 Hz clock (nowMs advances 1000 per call, so rates are computed and
// the sockets probe re-reads its tables as often as it would in production); the table shows
// wall-clock ms per collect() call. The processes probe includes socket attribution; the sockets
// tracker alone is shown below it (not added to the total), and the per-thread read (busy threads
// and the other threads' context switches) is measured on its own at the end (worst case: every
// multi-threaded process treated as busy).
import { performance } from 'node:perf_hooks';
import { defaultProbeConfig, isUnavailable, probeTable } from '../agent/probes/index.js';
import { clockTicksPerSecond, isKernelThread, parseProcStat } from '../agent/probes/processes.js';
import { socketsProbe } from '../agent/probes/sockets.js';
import { BusyThreads } from '../agent/probes/threads.js';
import { listPids, readOptional } from '../agent/probes/util.js';

const iterations = Math.min(2000, Math.max(1, Number(process.argv[2] ?? 200) || 200));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const rows: { probe: string; mean: number; p50: number; p95: number; max: number; note: string }[] = [];
let totalMean = 0;
const extra = [{ name: '(sockets)', factory: socketsProbe, part: true }];
for (const { name, factory, part } of [...probeTable.map((p) => ({ ...p, part: false })), ...extra]) {
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
  if (!part) totalMean += mean;
  const note = isUnavailable(last) ? `unavailable: ${last.unavailable}` : Object.keys(last).length === 0 ? 'empty (absent on this host)' : `first call ${primeMs.toFixed(2)} ms`;
  rows.push({ probe: name, mean, p50: percentile(times, 50), p95: percentile(times, 95), max: times[times.length - 1]!, note });
}

const fmt = (x: number): string => x.toFixed(3).padStart(9);
console.log(`probe cost, ${iterations} calls each (ms per call)`);
console.log(`${'probe'.padEnd(12)}${'mean'.padStart(9)}${'p50'.padStart(9)}${'p95'.padStart(9)}${'max'.padStart(9)}  note`);
for (const r of rows) console.log(`${r.probe.padEnd(12)}${fmt(r.mean)}${fmt(r.p50)}${fmt(r.p95)}${fmt(r.max)}  ${r.note}`);
console.log(`${'total'.padEnd(12)}${fmt(totalMean)}  ((sockets) is part of processes, not added)`);

// Busy threads, worst case: every multi-threaded user-space process read as if it were busy.
const root = defaultProbeConfig.procRoot;
const bt = new BusyThreads(root, clockTicksPerSecond(root));
const multi = listPids(root)
  .map((pid) => parseProcStat(readOptional(`${root}/${pid}/stat`) ?? ''))
  .filter((s) => s !== undefined && !isKernelThread(s) && s.threads > 1);
const btTimes: number[] = [];
for (let i = 0; i < Math.min(iterations, 50); i++) {
  const t0 = performance.now();
  bt.begin();
  for (const s of multi) bt.count(s!.pid, `${s!.pid}:${s!.startTicks}`, 100, s!.threads, 1);
  bt.end();
  btTimes.push(performance.now() - t0);
}
btTimes.sort((a, b) => a - b);
const btMean = btTimes.reduce((a, b) => a + b, 0) / btTimes.length;
const threads = bt.threadsRead / btTimes.length;
console.log(
  `busy threads, worst case (${multi.length} multi-threaded processes, ${threads.toFixed(0)} thread stats + ${(bt.statusRead / btTimes.length).toFixed(0)} thread statuses per call): mean ${btMean.toFixed(3)} ms, p95 ${percentile(btTimes, 95).toFixed(3)} ms, ${((1000 * btMean) / Math.max(1, threads)).toFixed(2)} us per thread`,
);
