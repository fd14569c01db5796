// Dominant period of a series by autocorrelation. Chains tick on slots (Ethereum 12 s), training
// ticks on steps, proofs tick on deadlines; hashing and noise do not tick at all.

export interface Period {
  /** Period in samples (fractional: refined by a parabola through the peak). */
  samples: number;
  /** Normalised autocorrelation at the peak lag, 0..1 (1 = the series repeats exactly). */
  strength: number;
}

export interface PeriodOptions {
  /** Minimum normalised autocorrelation to call a period. */
  minStrength: number;
  /** The period must fit this many times in the series. */
  minCycles: number;
  /** Shortest lag considered (2: a period of one sample is not observable). */
  minLagSamples: number;
  /**
   * The peak must also stand this many noise standard deviations (~1/sqrt(n-k) for white noise)
   * above zero, so that short windows need a clearer repetition than long ones.
   */
  noiseSigmas: number;
  /** Longest lag searched (bounds the O(n x lag) cost on long windows); default n / minCycles. */
  maxLagSamples?: number;
}

/** Relative variance below which a series is "flat" and has no period (noise of float rounding). */
const FLAT_EPSILON = 1e-9;

/**
 * Autocorrelation r(k) = sum(d[t] d[t+k]) / sum(d[t]^2) with d = x - mean (the biased estimator:
 * it shrinks long lags by (n-k)/n, so the fundamental beats its harmonics).
 */
export function autocorrelation(xs: readonly number[], maxLag: number): number[] {
  const n = xs.length;
  let m = 0;
  for (const x of xs) m += x;
  m = n > 0 ? m / n : 0;
  const d = xs.map((x) => x - m);
  let denom = 0;
  for (const v of d) denom += v * v;
  const out: number[] = [];
  for (let k = 0; k <= Math.min(maxLag, n - 1); k++) {
    if (denom <= 0) {
      out.push(0);
      continue;
    }
    let s = 0;
    for (let t = 0; t + k < n; t++) s += (d[t] ?? 0) * (d[t + k] ?? 0);
    out.push(s / denom);
  }
  return out;
}

/**
 * The lag with the highest autocorrelation among local maxima, or null when the series is flat,
 * too short, or nothing repeats strongly enough. Strength is corrected for the (n-k)/n shrink so
 * that it reads like a correlation coefficient.
 */
export function dominantPeriod(xs: readonly number[], opts: PeriodOptions): Period | null {
  const n = xs.length;
  const maxLag = Math.floor(Math.min(n / Math.max(1, opts.minCycles), opts.maxLagSamples ?? Infinity));
  if (maxLag < opts.minLagSamples + 1) return null;
  let m = 0;
  for (const x of xs) m += x;
  m /= n;
  let v = 0;
  for (const x of xs) v += (x - m) * (x - m);
  if (v / n <= FLAT_EPSILON * Math.max(1, m * m)) return null;

  const r = autocorrelation(xs, maxLag + 1);
  // Pick by the raw (shrunk) autocorrelation so the fundamental beats its multiples, then report
  // the corrected strength.
  let best = -1;
  let bestRaw = -Infinity;
  for (let k = opts.minLagSamples; k <= maxLag; k++) {
    const here = r[k] ?? 0;
    const before = r[k - 1] ?? 0;
    const after = r[k + 1] ?? -Infinity;
    // A local maximum: a monotonic decay (a trend, a slow drift) has none and so no period.
    if (!(here > before && here >= after)) continue;
    if (here > bestRaw) {
      bestRaw = here;
      best = k;
    }
  }
  if (best < 0) return null;
  const bestStrength = bestRaw * (n / (n - best));
  if (bestStrength < Math.max(opts.minStrength, opts.noiseSigmas / Math.sqrt(n - best))) return null;

  const a = r[best - 1] ?? 0;
  const b = r[best] ?? 0;
  const c = r[best + 1] ?? 0;
  const curvature = a - 2 * b + c;
  const shift = curvature < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / curvature)) : 0;
  return { samples: best + shift, strength: Math.min(1, bestStrength) };
}
