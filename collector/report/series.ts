// Plot data: CPU, GPU and power averaged into at most MAX_POINTS equal time buckets over the
// period, each at least one sampling interval long. A sample stands for the time until the next
// one when that is no hole (at most HOLE_INTERVALS intervals, as coverage.ts counts gaps), else
// for one interval; a bucket is the time-weighted mean of the samples overlapping it. So a bucket
// is null (a hole in the plot) only inside a real gap, never because jitter left a slot empty.
import { summarize } from '../store/store.js';
import { HOLE_INTERVALS } from './coverage.js';
import type { SampleRow } from './decode.js';
import type { Period, Series } from './types.js';

const MAX_POINTS = 720;

interface Acc {
  ms: number;
  cpu: number;
  gpuMs: number;
  gpu: number;
  powerMs: number;
  power: number;
}

export function series(rows: readonly SampleRow[], period: Period, intervalMs: number): Series {
  const periodMs = Math.max(1, period.toMs - period.fromMs);
  const bucketMs = Math.max(intervalMs, Math.ceil(periodMs / MAX_POINTS));
  const n = Math.max(1, Math.ceil(periodMs / bucketMs));
  const acc: Acc[] = Array.from({ length: n }, () => ({ ms: 0, cpu: 0, gpuMs: 0, gpu: 0, powerMs: 0, power: 0 }));
  const byTime = [...rows].sort((a, b) => a.tsMs - b.tsMs || a.seq - b.seq);
  byTime.forEach((r, i) => {
    const next = byTime[i + 1]?.tsMs;
    const end = next !== undefined && next - r.tsMs <= HOLE_INTERVALS * intervalMs ? next : r.tsMs + intervalMs;
    const fromMs = Math.max(r.tsMs, period.fromMs);
    const toMs = Math.min(end, period.toMs);
    if (toMs <= fromMs) return;
    const s = summarize(r.seq, r.sample);
    for (let b = Math.floor((fromMs - period.fromMs) / bucketMs); b < n; b++) {
      const bFrom = period.fromMs + b * bucketMs;
      if (bFrom >= toMs) break;
      const w = Math.min(toMs, bFrom + bucketMs) - Math.max(fromMs, bFrom);
      if (w <= 0) continue;
      const a = acc[b]!;
      a.ms += w;
      a.cpu += s.cpuPct * w;
      if (s.gpuUtilPct !== null) {
        a.gpuMs += w;
        a.gpu += s.gpuUtilPct * w;
      }
      if (s.powerWatts !== null) {
        a.powerMs += w;
        a.power += s.powerWatts * w;
      }
    }
  });
  const out: Series = { tsMs: [], cpuPct: [], gpuPct: [], powerWatts: [] };
  acc.forEach((a, i) => {
    out.tsMs.push(period.fromMs + i * bucketMs + Math.floor(bucketMs / 2));
    out.cpuPct.push(a.ms ? a.cpu / a.ms : null);
    out.gpuPct.push(a.gpuMs ? a.gpu / a.gpuMs : null);
    out.powerWatts.push(a.powerMs ? a.power / a.powerMs : null);
  });
  return out;
}
