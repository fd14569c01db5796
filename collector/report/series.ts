// Plot data: CPU, GPU and power averaged into at most MAX_POINTS equal time buckets over the
// period; a bucket without samples is null, so the plots show holes where data is missing.
import { summarize } from '../store/store.js';
import type { SampleRow } from './decode.js';
import type { Period, Series } from './types.js';

const MAX_POINTS = 720;

export function series(rows: readonly SampleRow[], period: Period, intervalMs: number): Series {
  const periodMs = Math.max(1, period.toMs - period.fromMs);
  const bucketMs = Math.max(intervalMs, Math.ceil(periodMs / MAX_POINTS));
  const n = Math.max(1, Math.ceil(periodMs / bucketMs));
  const acc = Array.from({ length: n }, () => ({ cpu: 0, gpu: 0, gn: 0, power: 0, pn: 0, n: 0 }));
  for (const r of rows) {
    const i = Math.min(n - 1, Math.max(0, Math.floor((r.tsMs - period.fromMs) / bucketMs)));
    const s = summarize(r.seq, r.sample);
    const a = acc[i]!;
    a.n += 1;
    a.cpu += s.cpuPct;
    if (s.gpuUtilPct !== null) {
      a.gpu += s.gpuUtilPct;
      a.gn += 1;
    }
    if (s.powerWatts !== null) {
      a.power += s.powerWatts;
      a.pn += 1;
    }
  }
  const out: Series = { tsMs: [], cpuPct: [], gpuPct: [], powerWatts: [] };
  acc.forEach((a, i) => {
    out.tsMs.push(period.fromMs + i * bucketMs + Math.floor(bucketMs / 2));
    out.cpuPct.push(a.n ? a.cpu / a.n : null);
    out.gpuPct.push(a.gn ? a.gpu / a.gn : null);
    out.powerWatts.push(a.pn ? a.power / a.pn : null);
  });
  return out;
}
