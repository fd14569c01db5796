// Features of the long horizons (HistoryView from accumulate.ts): the same series shape as the
// raw window, computed on bucket means, so "flat over 10 min" or "a read burst every 30 min"
// are visible while the raw window stays short and cheap.
import type { HistoryView, HorizonSeries } from './accumulate.js';
import type { HorizonFeatures, ProcessHorizonFeatures } from './feature-types.js';
import { ownRateFeatures, ownSeriesFeatures, rateFeatures, seriesFeatures, type FeatureOptions } from './features-series.js';

function optsFor(h: HorizonSeries, opts: FeatureOptions): FeatureOptions {
  // A horizon may look for periods up to half its span (a 30 min WindowPoSt deadline in 60 min).
  return { ...opts, period: { ...opts.period, minCycles: h.minCycles }, maxPeriodMs: Math.max(opts.maxPeriodMs, h.spanMs / h.minCycles) };
}

export function hostHistory(view: HistoryView | null | undefined, opts: FeatureOptions): HorizonFeatures[] {
  return (view?.horizons ?? []).map((h) => {
    const o = optsFor(h, opts);
    return {
      name: h.name,
      spanMs: h.spanMs,
      bucketMs: h.bucketMs,
      coveredMs: h.bucketsCovered * h.bucketMs,
      cpu: seriesFeatures(h.cpuMeanPct, o, h.bucketMs),
      gpuUtil: h.gpuSeen ? seriesFeatures(h.gpuUtilPct, o, h.bucketMs) : null,
      diskRead: rateFeatures(h.readBytesPerSec, o, h.bucketMs),
      diskWrite: rateFeatures(h.writeBytesPerSec, o, h.bucketMs),
    };
  });
}

export function processHistory(view: HistoryView | null | undefined, key: string, opts: FeatureOptions): ProcessHorizonFeatures[] {
  const out: ProcessHorizonFeatures[] = [];
  for (const h of view?.horizons ?? []) {
    const p = h.processes.get(key);
    if (!p) continue;
    // Only the span the process lived in counts (a process started 2 min ago is not "flat for 60 min").
    const firstSeen = p.cpuMeanPct.findIndex((_, i) => (p.readBytesPerSec[i] ?? 0) > 0 || (p.cpuMeanPct[i] ?? 0) > 0 || (p.writeBytesPerSec[i] ?? 0) > 0);
    const from = Math.max(0, firstSeen);
    const o = optsFor(h, opts);
    const cpu = p.cpuMeanPct.slice(from);
    out.push({
      name: h.name,
      bucketMs: h.bucketMs,
      spanMs: h.spanMs,
      presentMs: p.bucketsPresent * h.bucketMs,
      // The slices are this process's own: their features keep them as their series.
      cpu: ownSeriesFeatures(cpu, o, h.bucketMs, (p95) => p95 >= opts.dutyMinPct),
      read: ownRateFeatures(p.readBytesPerSec.slice(from), o, h.bucketMs),
      write: ownRateFeatures(p.writeBytesPerSec.slice(from), o, h.bucketMs),
      rssBytesMax: p.rssBytesMax,
      threadsMax: p.threadsMax,
    });
  }
  return out;
}
