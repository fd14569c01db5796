// Shape of one series, with the few parameters that define "flat", "on" and "periodic".
import type { SeriesFeatures } from './feature-types.js';
import { dominantPeriod, type PeriodOptions } from './periodicity.js';
import type { Rules } from './rules/schema.js';
import { cvOfMean, dutyCycle, flatnessAround, mean, percentilePair } from './stats.js';

export interface FeatureOptions {
  flatBandRel: number;
  flatBandAbs: number;
  dutyMinPct: number;
  /** A process's CPU series is searched for a period once its p95 reaches this (% of one core). */
  periodMinPct: number;
  dutyRelToP95: number;
  period: PeriodOptions;
  defaultIntervalMs: number;
  /** Process shares of the host are taken over this most recent part of the window (a workload that stopped no longer counts). */
  recentShareMs: number;
  /** A process missing from this many most recent samples has exited (or stopped mattering). */
  goneAfterSamples: number;
  /** Longest period worth looking for (the rules' longest step or chain period). */
  maxPeriodMs: number;
  /** Cycles a chain slot period needs when the process is networked (fewer than period.minCycles). */
  slotMinCycles: number;
  /** First port of the ephemeral range: a connection from a lower local port to a port in it was accepted, not dialled. */
  ephemeralPortMin: number;
}

/**
 * Descriptive defaults for callers without rules (a dashboard plotting features). evaluate()
 * always derives the options from the rules file, so verdicts never depend on these numbers.
 */
export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = {
  flatBandRel: 0.15,
  flatBandAbs: 2,
  dutyMinPct: 10,
  periodMinPct: 3,
  dutyRelToP95: 0.5,
  period: { minStrength: 0.5, minCycles: 3, minLagSamples: 2, noiseSigmas: 3 },
  defaultIntervalMs: 1000,
  recentShareMs: 30_000,
  goneAfterSamples: 5,
  maxPeriodMs: 120_000,
  slotMinCycles: 2,
  ephemeralPortMin: 32768,
};

export function featureOptions(rules: Rules): FeatureOptions {
  const t = rules.thresholds;
  return {
    flatBandRel: t.flat.bandRel,
    flatBandAbs: t.flat.bandAbsPct,
    dutyMinPct: t.busy.processCpuPct,
    periodMinPct: t.period.minActivePct,
    dutyRelToP95: t.busy.dutyRelToP95,
    period: { minStrength: t.period.minStrength, minCycles: t.period.minCycles, minLagSamples: t.period.minLagSamples, noiseSigmas: t.period.noiseSigmas },
    defaultIntervalMs: t.window.defaultIntervalMs,
    recentShareMs: rules.composition.recentShareMs,
    goneAfterSamples: t.busy.minSamplesPresent,
    maxPeriodMs: Math.max(t.steps.maxMs, ...t.chainPeriods.map((c) => c.ms + c.toleranceMs)),
    slotMinCycles: t.period.slotMinCycles,
    ephemeralPortMin: t.peers.ephemeralPortMin,
  };
}

/**
 * `seekPeriod: false` skips the autocorrelation (the one costly step) for series that cannot
 * matter, such as a process that never got busy; a function decides from the series' p95.
 */
export function seriesFeatures(xs: readonly number[], opts: FeatureOptions, intervalMs: number, seekPeriod: boolean | ((p95: number) => boolean) = true): SeriesFeatures {
  return shape(xs, opts, opts.dutyMinPct, opts.flatBandAbs, intervalMs, seekPeriod, false);
}

/**
 * seriesFeatures of a series built for it (no one else holds or changes it): its `series` is xs
 * itself, not a copy.
 */
export function ownSeriesFeatures(xs: number[], opts: FeatureOptions, intervalMs: number, seekPeriod: boolean | ((p95: number) => boolean) = true): SeriesFeatures {
  return shape(xs, opts, opts.dutyMinPct, opts.flatBandAbs, intervalMs, seekPeriod, true);
}

/** Same shape for byte-rate series: the duty threshold is relative only (no % floor). */
export function rateFeatures(xs: readonly number[], opts: FeatureOptions, intervalMs: number): SeriesFeatures {
  // A tiny floor keeps an all-zero series at duty 0 rather than "always on".
  return shape(xs, opts, 1e-9, 0, intervalMs, true, false);
}

/** rateFeatures of a series built for it: its `series` is xs itself, not a copy. */
export function ownRateFeatures(xs: number[], opts: FeatureOptions, intervalMs: number): SeriesFeatures {
  return shape(xs, opts, 1e-9, 0, intervalMs, true, true);
}

// The series' p95 and median found by selection, not a sort (stats.ts percentilePair), and its mean is summed once (for the mean
// and the CV): the numbers of percentile(), cv() and flatness() (stats.ts), for less work.
function shape(xs: readonly number[], opts: FeatureOptions, dutyMinPct: number, flatBandAbs: number, intervalMs: number, seekPeriod: boolean | ((p95: number) => boolean), owned: boolean): SeriesFeatures {
  const [p95, median] = percentilePair(xs, 95, 50);
  const seek = typeof seekPeriod === 'function' ? seekPeriod(p95) : seekPeriod;
  const maxLagSamples = Math.max(opts.period.minLagSamples + 1, Math.ceil(opts.maxPeriodMs / Math.max(1, intervalMs)) + 1);
  const period = seek && p95 > 0 ? dominantPeriod(xs, { ...opts.period, maxLagSamples }) : null;
  const m = mean(xs);
  return {
    mean: m,
    p95,
    cv: cvOfMean(xs, m),
    flatness: flatnessAround(xs, median, opts.flatBandRel, flatBandAbs),
    dutyCycle: dutyCycle(xs, Math.max(dutyMinPct, opts.dutyRelToP95 * p95)),
    period: period ? { samples: period.samples, ms: period.samples * intervalMs, strength: period.strength } : null,
    series: owned ? (xs as number[]) : [...xs],
  };
}
