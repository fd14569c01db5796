// Plot data: CPU, GPU and power averaged into at most MAX_POINTS equal time buckets over the
// period, each at least one sampling interval long. Each bucket is the time-weighted mean of the
// covered pieces (coverage.ts) overlapping it, so a bucket is null (a hole in the plot) only
// where the coverage has a gap, never because sampling jitter left a slot without a sample.
import { summarize } from '../store/store.js';
import type { Piece } from './coverage.js';
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

export function series(covered: readonly Piece[], period: Period, intervalMs: number): Series {
  const periodMs = Math.max(1, period.toMs - period.fromMs);
  const bucketMs = Math.max(intervalMs, Math.ceil(periodMs / MAX_POINTS));
  const n = Math.max(1, Math.ceil(periodMs / bucketMs));
  const acc: Acc[] = Array.from({ length: n }, () => ({ ms: 0, cpu: 0, gpuMs: 0, gpu: 0, powerMs: 0, power: 0 }));
  for (const p of covered) {
    const s = summarize(p.row.seq, p.row.sample);
    for (let b = Math.floor((p.fromMs - period.fromMs) / bucketMs); b < n; b++) {
      const bFrom = period.fromMs + b * bucketMs;
      if (bFrom >= p.toMs) break;
      const w = Math.min(p.toMs, bFrom + bucketMs) - Math.max(p.fromMs, bFrom);
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
  }
  const out: Series = { tsMs: [], cpuPct: [], gpuPct: [], powerWatts: [] };
  acc.forEach((a, i) => {
    out.tsMs.push(period.fromMs + i * bucketMs + Math.floor(bucketMs / 2));
    out.cpuPct.push(a.ms ? a.cpu / a.ms : null);
    out.gpuPct.push(a.gpuMs ? a.gpu / a.gpuMs : null);
    out.powerWatts.push(a.powerMs ? a.power / a.powerMs : null);
  });
  return out;
}
